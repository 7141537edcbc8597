/**
 * Remote configuration end to end: the compiled daemon (`edge-agent run --config FILE`, as systemd runs
 * it) against a real mosquitto, asked over MQTT for its configuration (secrets redacted), refused a
 * change while remote configuration is off, refused invalid changes (every problem, nothing applied,
 * the file untouched) and a change it cannot write, and changed live (the reading interval) with the file written atomically, the
 * previous one kept and the keys that need a restart listed.
 */
import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { REDACTED } from '../../agent/config/redact.js';
import { PayloadValidator } from '../../agent/mqtt/contract/schemas.js';
import type { CommandResponsePayload, InfoPayload, TemperatureTelemetryPayload } from '../../agent/mqtt/contract/topics.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { MqttSubscriber } from '../helpers/mqtt-subscriber.js';
import { AgentProcess, AgentSandbox } from './agent-process.js';

let broker: Mosquitto;
let client: MqttClient;
beforeAll(async () => {
  broker = await Mosquitto.start();
  client = await connectAsync(broker.url, { clientId: `test-operator-${process.pid}` });
});
afterAll(async () => {
  await client.endAsync(true);
  broker.dispose();
});

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const CAMERA_SECRET = 'hunter2';
const API_KEY = 'api-key-do-not-leak-42';

/** A light agent (simulated sensor every 2 s, no camera, no HTTP) whose file holds two secrets and a comment. */
function configText(deviceId: string, dataDir: string, remote: boolean): string {
  const config = {
    device_id: deviceId,
    data_dir: dataDir,
    log_level: 'info',
    camera: { driver: 'none', input: `rtsp://admin:${CAMERA_SECRET}@10.0.0.5/stream1` },
    sensor: { driver: 'sim', interval_s: 2 },
    forecast: { enabled: false, calibration: { enabled: false } },
    mqtt: { url: broker.url, embedded_broker: { enabled: false } },
    http: { enabled: false, api_keys: [API_KEY] },
    ...(remote ? { remote_config: { enabled: true } } : {}),
  };
  return `# written by the test: this comment must survive a remote change\n${stringify(config)}`;
}

/**
 * Starts the daemon with a configuration file, or (`withoutFile`) on the embedded defaults with the
 * data folder, broker and device id as flags and these environment variables.
 */
async function startAgent(deviceId: string, remote: boolean, withoutFile?: NodeJS.ProcessEnv) {
  const box = new AgentSandbox();
  cleanup.push(() => box.dispose());
  const text = configText(deviceId, box.dataDir, remote);
  if (!withoutFile) writeFileSync(box.configPath, text);
  const base = `edge/${deviceId}`;
  const sub = await MqttSubscriber.connect(broker.url, `${base}/#`);
  cleanup.push(() => sub.close());
  const agent = withoutFile
    ? AgentProcess.start(['run', '--data-dir', box.dataDir, '--mqtt-url', broker.url, '--device-id', deviceId], withoutFile)
    : AgentProcess.start(['run', '--config', box.configPath]);
  cleanup.push(() => agent.stop('SIGKILL'));
  await agent.waitReady();
  await sub.waitForMessage((m) => m.topic === `${base}/info`, 20_000, 'the retained info');
  let transaction = 0;
  /** Publishes a request and resolves with its reply (matched by transaction). */
  const request = async (command: string, body: object): Promise<CommandResponsePayload> => {
    const id = `t-${++transaction}`;
    await client.publishAsync(`${base}/cmd/${command}`, JSON.stringify({ ...body, transaction: id }), { qos: 1 });
    const topic = `${base}/cmd/${command}/response`;
    await sub.waitForMessage((m) => m.topic === topic && m.payload.includes(`"transaction":"${id}"`), 20_000, `the reply to ${command} ${id}`);
    return sub.json<CommandResponsePayload>(topic).find((r) => r.transaction === id)!;
  };
  return { box, base, sub, agent, text, request };
}

const contract = new PayloadValidator();

function expectValid(base: string, sub: MqttSubscriber): void {
  for (const m of sub.messages) expect(contract.problems(m.topic.slice(base.length + 1), m.payload), m.topic).toEqual([]);
}

describe('remote configuration over MQTT', () => {
  it('publishes versions, the redacted configuration and its schema, answers config/get redacted, and refuses config/set while off', async () => {
    const { box, base, sub, agent, text, request } = await startAgent('rc-off', false);
    const info = sub.json<InfoPayload>(`${base}/info`)[0]!;
    expect(info.versions).toMatchObject({ agent: expect.any(String), node: process.versions.node, models: { intruder: null } });
    expect(info.remote_config).toBe(false);
    expect(info.config_schema).toHaveProperty('properties.remote_config.properties.enabled.default', false);
    expect(info.config).toMatchObject({ camera: { input: `rtsp://${REDACTED}@10.0.0.5/stream1` }, http: { api_keys: [REDACTED] }, sensor: { interval_s: 2 } });

    const late = await MqttSubscriber.connect(broker.url, `${base}/info`);
    cleanup.push(() => late.close());
    await late.waitForMessage((m) => m.retain, 10_000, 'the retained info for a late subscriber');

    const got = await request('config/get', {});
    expect(got).toMatchObject({ status: 'ok', data: { config: { http: { api_keys: [REDACTED] }, remote_config: { enabled: false } } } });
    for (const m of sub.messages) for (const secret of [CAMERA_SECRET, API_KEY]) expect(m.payload.includes(secret), `${secret} on ${m.topic}`).toBe(false);

    const refused = await request('config/set', { config: { sensor: { interval_s: 0.5 } } });
    expect(refused).toMatchObject({ status: 'error', data: { code: 'disabled' }, error: expect.stringContaining('remote_config.enabled: true') });
    expect(readFileSync(box.configPath, 'utf8')).toBe(text);
    expect(readdirSync(box.dir).sort()).toEqual(['config.yaml', 'data']);
    expectValid(base, sub);
    expect(agent.errors()).toEqual([]);
  }, 90_000);

  it('refuses an invalid change with every problem and changes nothing; applies a valid one live and lists what needs a restart', async () => {
    const { box, base, sub, agent, text, request } = await startAgent('rc-on', true);
    expect(await request('config/set', { log_level: 'debug' })).toMatchObject({ status: 'error', data: { code: 'invalid_request' }, error: expect.stringContaining('{"config": {...}}') });
    const bad = await request('config/set', {
      config: {
        sensor: { interval_s: -1, intervl_s: 1 },
        log_level: 'loud',
        mqtt: { url: 'mqtt://elsewhere:1883' },
        http: { api_keys: [REDACTED, 'another-key-123'] },
        ota: { public_key_file: '/etc/shadow' },
      },
    });
    expect(bad).toMatchObject({ status: 'error', data: { code: 'invalid_config' } });
    const paths = (bad.data.problems as { path: string; message: string }[]).map((p) => p.path).sort();
    expect(paths).toEqual(['http.api_keys', 'log_level', 'mqtt', 'ota.public_key_file', 'sensor.interval_s', 'sensor.intervl_s']);
    expect(bad.error).toContain('did you mean interval_s?');
    expect(readFileSync(box.configPath, 'utf8')).toBe(text);
    expect(readdirSync(box.dir).sort()).toEqual(['config.yaml', 'data']);
    expect(await request('config/get', {})).toMatchObject({ data: { config: { log_level: 'info', sensor: { interval_s: 2 } } } });

    // A file that cannot be written (here a folder where the previous copy goes): refused, nothing applied.
    mkdirSync(`${box.configPath}.previous`);
    const unwritable = await request('config/set', { config: { sensor: { interval_s: 0.25 } } });
    expect(unwritable).toMatchObject({ status: 'error', data: { code: 'write_failed' }, error: expect.stringMatching(/^nothing changed: cannot write/) });
    expect(readFileSync(box.configPath, 'utf8')).toBe(text);
    expect(await request('config/get', {})).toMatchObject({ data: { config: { sensor: { interval_s: 2 } } } });
    rmdirSync(`${box.configPath}.previous`);

    // The redacted secrets as config/get gave them: sent back unchanged, the real ones stay.
    const current = (await request('config/get', {})).data.config as { camera: object; http: { api_keys: string[] } };
    const sentAt = Date.now();
    const ok = await request('config/set', {
      config: { camera: current.camera, http: { api_keys: current.http.api_keys }, sensor: { interval_s: 0.25 }, log_level: 'debug', store: { retention_days: 7 } },
    });
    expect(ok).toMatchObject({
      status: 'ok',
      data: { file: box.configPath, previous_file: `${box.configPath}.previous`, applied: ['log_level', 'sensor.interval_s'], restart_required: ['store.retention_days'] },
    });

    // Live: readings now come every 0.25 s instead of every 2 s.
    const fresh = () => sub.json<TemperatureTelemetryPayload>(`${base}/telemetry/temperature`).filter((t) => Date.parse(t.ts) > sentAt + 2_500);
    await sub.waitFor(() => fresh().length >= 8, 20_000, 'readings at the new interval');
    const gaps = fresh().slice(1).map((t, i) => Date.parse(t.ts) - Date.parse(fresh()[i]!.ts));
    expect(gaps.filter((gap) => gap < 1_000).length).toBeGreaterThan(gaps.length / 2);

    // The file: changed keys only, comment and secrets kept; the previous file kept; no temporary file left.
    const written = readFileSync(box.configPath, 'utf8');
    expect(written).toContain('# written by the test');
    expect(parse(written)).toMatchObject({ log_level: 'debug', sensor: { driver: 'sim', interval_s: 0.25 }, store: { retention_days: 7 }, http: { api_keys: [API_KEY] }, camera: { input: `rtsp://admin:${CAMERA_SECRET}@10.0.0.5/stream1` } });
    expect(readFileSync(`${box.configPath}.previous`, 'utf8')).toBe(text);
    expect(readdirSync(box.dir).sort()).toEqual(['config.yaml', 'config.yaml.previous', 'data']);

    // <base>/info again, with the new values and what waits for a restart.
    await sub.waitFor(() => sub.json<InfoPayload>(`${base}/info`).length >= 2, 10_000, 'the info after the change');
    const info = sub.json<InfoPayload>(`${base}/info`).at(-1)!;
    expect(info).toMatchObject({ remote_config: true, restart_required: ['store.retention_days'], config: { log_level: 'debug', sensor: { interval_s: 0.25 }, store: { retention_days: 30 } } });
    expect(agent.logs.some((l) => l.level === 30 && /configuration changed remotely/.test(l.msg))).toBe(true);
    expectValid(base, sub);
    expect(agent.errors()).toEqual([]);
  }, 90_000);

  it('without a configuration file, writes <data_dir>/config.yaml', async () => {
    const env = { EDGE_AGENT_REMOTE_CONFIG_ENABLED: 'true', EDGE_AGENT_HTTP_ENABLED: 'false', EDGE_AGENT_FORECAST_ENABLED: 'false' };
    const { box, request, agent } = await startAgent('rc-nofile', true, env);
    const ok = await request('config/set', { config: { motion: { threshold: 0.05 }, intruder: { cooldown_s: 5 } } });
    const file = join(box.dataDir, 'config.yaml');
    expect(ok).toMatchObject({ status: 'ok', data: { file, previous_file: null, applied: ['motion.threshold', 'intruder.cooldown_s'], restart_required: [] } });
    expect(parse(readFileSync(file, 'utf8'))).toEqual({ motion: { threshold: 0.05 }, intruder: { cooldown_s: 5 } });
    expect(await request('config/get', {})).toMatchObject({ data: { config: { motion: { threshold: 0.05 }, intruder: { cooldown_s: 5 } } } });
    expect(agent.errors()).toEqual([]);
  }, 90_000);
});
