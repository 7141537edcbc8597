/**
 * The named shadow `config` end to end: the Agent (the daemon's service table, a configuration file in
 * a temporary folder, the AWS IoT profile) against a real mosquitto with mutual TLS and an ACL like the
 * device policy AWS IoT Core would hold, while test/daemon/shadow-service.ts plays AWS's Device Shadow
 * service. Desired changes arrive as `update/delta` or in the answer to `get`, and go through
 * RemoteConfig to the file and the live configuration; the outcome comes back as `reported`.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../agent/config/load.js';
import type { AgentConfig } from '../../agent/config/types.js';
import { Agent } from '../../agent/daemon/agent.js';
import { pollUntil } from '../../agent/lib/timing.js';
import { EventBus } from '../../agent/runtime/event-bus.js';
import { SqliteStore } from '../../agent/store/store.js';
import { FakeAlarmOutput } from '../fakes/alarm-output.js';
import { captureLog, type CapturedLog } from '../helpers/log-capture.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { ShadowService } from './shadow-service.js';

const THING = 'edge-thing-7';
/** Generous: a loaded 2-core machine, and a reconnect with the relay's own backoff. */
const WAIT_MS = 30_000;

let broker: Mosquitto;
beforeAll(async () => {
  broker = await Mosquitto.start({
    tls: true,
    acl: [
      // The device policy: its own shadow topics (besides things/<thing>/#, which the helper allows).
      'pattern readwrite $aws/things/%u/#',
      'user aws-iot',
      'topic readwrite $aws/#',
    ],
  });
});
afterAll(async () => {
  await broker?.dispose();
});

let dir: string;
let file: string;
let config: AgentConfig;
let log: CapturedLog;
let agent: Agent;
let aws: ShadowService;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edge-shadow-broker-'));
  file = join(dir, 'config.yaml');
  const pki = broker.tls!;
  const device = pki.client(THING);
  const settings = {
    device_id: 'pi-7',
    data_dir: join(dir, 'data'),
    camera: { driver: 'none' },
    sensor: { driver: 'none' },
    forecast: { enabled: false, calibration: { enabled: false } },
    http: { enabled: false },
    remote_config: { enabled: true },
    alarm: { hold_s: 30 },
    mqtt: { url: broker.url, ca: pki.ca, cert: device.cert, key: device.key, aws_iot: { thing_name: THING }, embedded_broker: { enabled: false } },
  };
  writeFileSync(file, `# the operator's comment\n${stringify(settings)}`);
  const source = { file, env: {} };
  config = loadConfig(source);
  aws = await ShadowService.start(broker.url, { ca: pki.ca, ...pki.client('aws-iot') }, THING, 'config');
  log = captureLog();
  agent = new Agent({
    config,
    configSource: source,
    logger: log.logger,
    bus: new EventBus(log.logger),
    openHardware: async () => ({ alarmOutput: new FakeAlarmOutput(), sensor: null, createCamera: null }),
    openStore: () => SqliteStore.open(join(config.data_dir, 'agent.db'), { logger: log.logger, config: config.store }),
    loadIntruder: async () => null,
    loadForecaster: async () => null,
  });
  await agent.start();
  await agent.startAfterReady();
});
afterEach(async () => {
  await agent.stop();
  await aws.close();
  rmSync(dir, { recursive: true, force: true });
});

const fileOnDisk = () => parse(readFileSync(file, 'utf8')) as { alarm: { hold_s: number } };
/** The inode: an atomic write renames a new file over the old one, so it changes; a write in place keeps it. */
const inode = () => statSync(file).ino;
const leftovers = () => readdirSync(dir).filter((name) => name.endsWith('.tmp'));

async function waitFor(what: string, done: () => boolean): Promise<void> {
  await pollUntil(done, WAIT_MS);
  expect(done(), `${what}; log:\n${log.lines.map((l) => l.msg).join('\n')}`).toBe(true);
}

describe('the config shadow over a real broker', () => {
  it('applies a valid desired change to the file and the running agent, and reports it', async () => {
    await waitFor('the device asks for its shadow at start', () => aws.count('get') === 1);
    const before = inode();

    aws.desire({ alarm: { hold_s: 45 } });

    await waitFor('the change is reported', () => aws.count('update') === 1);
    expect(aws.reported).toEqual({ alarm: { hold_s: 45 }, restart_required: [] });
    expect(aws.desired).toBeUndefined();
    expect(config.alarm.hold_s).toBe(45);
    expect(fileOnDisk().alarm.hold_s).toBe(45);
    expect(readFileSync(file, 'utf8')).toMatch(/^# the operator's comment\n/);
    expect(inode()).not.toBe(before);
    expect(leftovers()).toEqual([]);
    expect(readdirSync(dir)).toContain('config.yaml.previous');
    // The shadow did not exist at the first get (404): that is no reason for a warning.
    expect(log.lines.filter((l) => l.module === 'config-shadow' && l.level >= 40)).toEqual([]);
  });

  it('reports every error of an invalid desired state, and applies and writes none of it', async () => {
    await waitFor('the device asks for its shadow at start', () => aws.count('get') === 1);
    const text = readFileSync(file, 'utf8');
    const before = inode();

    aws.desire({ alarm: { hold_s: -1 }, sensor: { interval_s: 'often' } });

    await waitFor('the refusal is reported', () => aws.count('update') === 1);
    const errors = aws.reported!.config_errors as { path: string; message: string }[];
    expect(errors.map((e) => e.path).sort()).toEqual(['alarm.hold_s', 'sensor.interval_s']);
    expect(aws.desired).toBeUndefined();
    expect(config.alarm.hold_s).toBe(30);
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(inode()).toBe(before);

    // A valid change afterwards clears the errors (a null in `reported` deletes the key).
    aws.desire({ alarm: { hold_s: 20 } });
    await waitFor('the second change is reported', () => aws.count('update') === 2);
    expect(aws.reported).toEqual({ alarm: { hold_s: 20 }, restart_required: [] });
    expect(config.alarm.hold_s).toBe(20);
  });

  it('after a broker restart asks for the shadow again and applies what was desired meanwhile', async () => {
    await waitFor('the device asks for its shadow at start', () => aws.count('get') === 1);

    await broker.stop();
    await waitFor('the shadow service sees the broker gone', () => !aws.connected);
    // Written while the device is away: the delta AWS publishes now reaches nobody.
    aws.desire({ alarm: { hold_s: 50 } });
    await broker.resume();

    await waitFor('the device asks again once reconnected', () => aws.count('get') === 2);
    await waitFor('the change found by get is reported', () => aws.count('update') === 1);
    expect(aws.requests.map((r) => r.operation)).toEqual(['get', 'get', 'update']);
    expect(aws.reported).toEqual({ alarm: { hold_s: 50 }, restart_required: [] });
    expect(aws.desired).toBeUndefined();
    expect(config.alarm.hold_s).toBe(50);
    expect(fileOnDisk().alarm.hold_s).toBe(50);
  });
});
