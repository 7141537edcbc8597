/**
 * The AWS IoT named shadow `config`: desired states go through RemoteConfig.change (the path of
 * cmd/config/set: the file merged, validated, written, live keys applied), and the outcome is reported.
 * MQTT is faked at the relay's boundary (subscribe / publishDirect), the rest is real.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../agent/config/load.js';
import type { AgentConfig } from '../../agent/config/types.js';
import { ConfigShadow, configShadowTopic, type ShadowMqtt } from '../../agent/daemon/config-shadow.js';
import { RemoteConfig } from '../../agent/daemon/remote-config.js';
import { pollUntil } from '../../agent/lib/timing.js';
import { topicMatches } from '../../agent/mqtt/subscriptions.js';
import { MessageBuilder } from '../../agent/mqtt/messages.js';
import { EventBus } from '../../agent/runtime/event-bus.js';
import { captureLog, type CapturedLog } from '../helpers/log-capture.js';

const THING = 'edge-thing-7';
const topic = (suffix: string) => configShadowTopic(THING, suffix);

/** The relay as the shadow sees it: handlers by filter, and what was published. */
class FakeMqtt implements ShadowMqtt {
  readonly handlers = new Map<string, (topic: string, payload: Buffer) => void | Promise<void>>();
  readonly published: { topic: string; body: Record<string, unknown> }[] = [];

  subscribe(filter: string, handler: (topic: string, payload: Buffer) => void | Promise<void>): () => void {
    this.handlers.set(filter, handler);
    return () => this.handlers.delete(filter);
  }

  publishDirect(to: string, payload: string | Buffer): Promise<void> {
    this.published.push({ topic: to, body: JSON.parse(payload.toString()) as Record<string, unknown> });
    return Promise.resolve();
  }

  /** AWS IoT publishing to the device. */
  async deliver(to: string, body: object): Promise<void> {
    for (const [filter, handler] of this.handlers) if (topicMatches(filter, to)) await handler(to, Buffer.from(JSON.stringify(body)));
  }

  updates(): Record<string, unknown>[] {
    return this.published.filter((p) => p.topic === topic('update')).map((p) => p.body);
  }
}

let dir: string;
let file: string;
let config: AgentConfig;
let mqtt: FakeMqtt;
let shadow: ConfigShadow;
let remote: RemoteConfig;
let log: CapturedLog;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edge-shadow-'));
  file = join(dir, 'config.yaml');
  writeFileSync(file, `device_id: pi-7\ndata_dir: ${dir}\nremote_config:\n  enabled: true\nalarm:\n  hold_s: 30\n`);
  config = loadConfig({ file, env: {} });
  log = captureLog();
  const bus = new EventBus(log.logger);
  mqtt = new FakeMqtt();
  remote = new RemoteConfig({
    config,
    source: { file, env: {} },
    commands: { register: () => {} },
    publish: () => true,
    messages: new MessageBuilder('edge/pi-7', 'pi-7'),
    live: { logger: log.logger, telemetry: () => null },
    versions: () => ({ agent: '0.0.0', node: process.versions.node, models: { intruder: null, forecast: null } }),
    logger: log.logger,
  });
  shadow = new ConfigShadow({ thingName: THING, mqtt, bus, change: (partial) => remote.change(partial), logger: log.logger });
  await remote.start();
  await shadow.start();
});
afterEach(async () => {
  await shadow.stop();
  await remote.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the config shadow', () => {
  it('asks for the shadow when it starts, and applies a delta found there (a change made while offline)', async () => {
    expect(mqtt.published[0]).toEqual({ topic: topic('get'), body: {} });
    await mqtt.deliver(topic('get/accepted'), { state: { desired: { alarm: { hold_s: 45 } }, delta: { alarm: { hold_s: 45 } } }, version: 3 });

    await pollUntil(() => mqtt.updates().length === 1, 5_000);
    expect(mqtt.updates()[0]).toEqual({ state: { reported: { alarm: { hold_s: 45 }, config_errors: null, restart_required: [] }, desired: null } });
    expect(config.alarm.hold_s).toBe(45);
    expect(parse(readFileSync(file, 'utf8'))).toMatchObject({ alarm: { hold_s: 45 } });
  });

  it('applies a desired change from update/delta and reports it', async () => {
    await mqtt.deliver(topic('update/delta'), { state: { alarm: { hold_s: 12 } }, version: 4 });

    expect(mqtt.updates()).toEqual([{ state: { reported: { alarm: { hold_s: 12 }, config_errors: null, restart_required: [] }, desired: null } }]);
    expect(config.alarm.hold_s).toBe(12);
  });

  it('reports every error of an invalid desired state and applies none of it', async () => {
    const before = readFileSync(file, 'utf8');
    await mqtt.deliver(topic('update/delta'), { state: { alarm: { hold_s: -1 }, sensor: { interval_s: 'often' }, mqtt: { url: 'mqtt://evil:1883' } }, version: 5 });

    const [update] = mqtt.updates();
    const errors = (update as { state: { reported: { config_errors: { path: string; message: string }[] } } }).state.reported.config_errors;
    expect(errors.map((e) => e.path).sort()).toEqual(['alarm.hold_s', 'mqtt', 'sensor.interval_s']);
    expect(errors.find((e) => e.path === 'mqtt')!.message).toMatch(/cannot be set remotely/);
    expect((update as { state: { desired: unknown } }).state.desired).toBeNull();
    expect(config.alarm.hold_s).toBe(30);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('takes a 404 to get (no shadow yet) as nothing desired, and warns about any other refusal', async () => {
    await mqtt.deliver(topic('get/rejected'), { code: 404, message: "No shadow exists with name: 'config'", timestamp: 1_700_000_000 });
    await mqtt.deliver(topic('update/rejected'), { code: 400, message: 'Payload contains invalid json', timestamp: 1_700_000_000 });
    await mqtt.deliver(topic('get/rejected'), { code: 403, message: 'Forbidden', timestamp: 1_700_000_000 });

    expect(log.matching(/^no config shadow yet: nothing desired$/).map((l) => l.level)).toEqual([20]);
    expect(log.matching(/^the config shadow refused/).map((l) => [l.msg, l.level])).toEqual([
      ['the config shadow refused update', 40],
      ['the config shadow refused get', 40],
    ]);
    expect(mqtt.updates()).toEqual([]);
  });
});
