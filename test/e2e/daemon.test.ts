/**
 * The daemon end to end: `node dist/agent/cli.js run --config FILE` against a real mosquitto, with the
 * directory camera on fixture photos, the real YOLOv8n model and the replay sensor on the occupancy
 * test file at high speed. Also several cameras in one agent: two `dir` cameras under `cameras`, one
 * detector, Home Assistant discovery on; each camera alerts on its own topics with its own snapshot and
 * entities, and the one-camera topics stay silent.
 */
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PayloadValidator } from '../../agent/mqtt/contract/schemas.js';
import type { IntruderAlertPayload } from '../../agent/mqtt/contract/topics.js';
import { fixture } from '../helpers/fixtures.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { MqttSubscriber, type ReceivedMessage } from '../helpers/mqtt-subscriber.js';
import { AgentProcess, AgentSandbox } from './agent-process.js';
import { e2eConfig } from './config.js';

let broker: Mosquitto;
beforeAll(async () => {
  broker = await Mosquitto.start();
});
afterAll(() => broker.dispose());

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function sandbox(): AgentSandbox {
  const box = new AgentSandbox();
  cleanup.push(() => box.dispose());
  return box;
}

async function subscriber(base: string): Promise<MqttSubscriber> {
  const sub = await MqttSubscriber.connect(broker.url, `${base}/#`);
  cleanup.push(() => sub.close());
  return sub;
}

function start(configPath: string): AgentProcess {
  const agent = AgentProcess.start(['run', '--config', configPath]);
  cleanup.push(() => agent.stop('SIGKILL'));
  return agent;
}

const count = (messages: ReceivedMessage[], topic: string) => messages.filter((m) => m.topic === topic).length;
const ids = (messages: ReceivedMessage[], prefix: string) =>
  new Set(messages.filter((m) => m.topic.startsWith(prefix) && m.topic !== `${prefix}snapshot`).flatMap((m) => jsonId(m.payload)));

function jsonId(payload: Buffer): string[] {
  try {
    const id = (JSON.parse(payload.toString('utf8')) as { id?: unknown }).id;
    return typeof id === 'string' ? [id] : [];
  } catch {
    return [];
  }
}

/** Ids of the JSON messages a database still has in its outbox, and the timestamps of its readings. */
function readDatabase(path: string) {
  const db = new Database(path);
  try {
    const outbox = db.prepare('SELECT topic, payload FROM outbox ORDER BY id').all() as { topic: string; payload: Buffer | string }[];
    const readingTs = (db.prepare('SELECT ts FROM readings').all() as { ts: number }[]).map((r) => r.ts);
    const forecasts = (db.prepare('SELECT id FROM forecasts').all() as { id: string }[]).map((r) => r.id);
    const detections = (db.prepare('SELECT id FROM detections').all() as { id: string }[]).map((r) => r.id);
    const pendingIds = outbox.flatMap((row) => jsonId(Buffer.from(row.payload)));
    return { outbox, readingTs, forecasts, detections, pendingIds };
  } finally {
    db.close();
  }
}

describe('edge-agent run, end to end', () => {
  it('publishes intrusions, snapshots, telemetry, forecasts and alerts that match the schemas; SIGTERM loses nothing', async () => {
    const box = sandbox();
    const base = 'edge/e2e-flow';
    const camera = box.cameraDir([fixture('images/coffee.png'), fixture('images/person.jpg')]);
    const sub = await subscriber(base);
    const agent = start(box.writeConfig(e2eConfig({ deviceId: 'e2e-flow', brokerUrl: broker.url, cameraDir: camera })));
    const ready = await agent.waitReady();
    expect(ready.ready_ms as number).toBeGreaterThan(0);

    await sub.waitFor(
      (m) =>
        count(m, `${base}/telemetry/temperature`) >= 100 &&
        count(m, `${base}/forecast/temperature`) >= 3 &&
        count(m, `${base}/alerts/temperature`) >= 1 &&
        m.some((x) => x.topic === `${base}/alerts/intruder` && x.payload.includes('"event":"start"')) &&
        count(m, `${base}/snapshot`) >= 1 &&
        m.some((x) => x.topic === `${base}/alarm` && x.payload.toString() === 'on'),
      60_000,
      'telemetry, forecasts, a temperature alert, an intrusion with its snapshot and the alarm',
    );
    const stopped = await agent.stop('SIGTERM');
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(10_000);
    await sub.waitFor((m) => m.at(-1)?.topic === `${base}/status`, 5_000, 'the offline status');

    const messages = sub.messages;
    const statuses = messages.filter((m) => m.topic === `${base}/status`).map((m) => m.payload.toString());
    expect(statuses[0]).toBe('online');
    expect(statuses.at(-1)).toBe('offline');
    const contract = new PayloadValidator();
    for (const m of messages) {
      expect(contract.problems(m.topic.slice(base.length + 1), m.payload), `${m.topic}: ${m.payload.toString('utf8', 0, 200)}`).toEqual([]);
    }
    const first = messages.find((m) => m.topic === `${base}/alerts/intruder`)!;
    const alert = JSON.parse(first.payload.toString()) as { event: string; objects: { class: string }[]; model: { name: string } };
    expect(alert.event).toBe('start');
    expect(alert.objects.map((o) => o.class)).toContain('person');

    // Nothing lost: the outbox is empty and every stored record was published.
    const db = readDatabase(box.dbPath);
    expect(db.outbox).toEqual([]);
    const telemetryTs = new Set(sub.json<{ ts: string }>(`${base}/telemetry/temperature`).map((t) => Date.parse(t.ts)));
    expect(db.readingTs.filter((ts) => !telemetryTs.has(ts))).toEqual([]);
    const published = ids(messages, `${base}/`);
    expect(db.forecasts.filter((id) => !published.has(id))).toEqual([]);
    expect(db.detections.filter((id) => !published.has(id))).toEqual([]);
    expect(agent.errors()).toEqual([]);
  }, 120_000);

  it('after SIGKILL while messages flow, a restart delivers every stored message', async () => {
    const box = sandbox();
    const base = 'edge/e2e-kill';
    const camera = box.cameraDir([fixture('images/person.jpg'), fixture('images/coffee.png')]);
    const sub = await subscriber(base);
    const configPath = box.writeConfig(e2eConfig({ deviceId: 'e2e-kill', brokerUrl: broker.url, cameraDir: camera }));
    const first = start(configPath);
    await first.waitReady();
    await sub.waitFor((m) => count(m, `${base}/telemetry/temperature`) >= 150 && count(m, `${base}/forecast/temperature`) >= 2, 60_000, 'messages flowing');
    const killed = await first.stop('SIGKILL');
    expect(killed.signal).toBe('SIGKILL');

    const before = readDatabase(box.dbPath);
    const second = start(configPath);
    await second.waitReady();
    // What the first run stored: its outbox leftovers, every reading, forecast and detection.
    const expectedIds = new Set([...before.pendingIds, ...before.forecasts, ...before.detections]);
    await sub.waitFor(
      (m) => {
        const got = ids(m, `${base}/`);
        return [...expectedIds].every((id) => got.has(id));
      },
      30_000,
      `the ${expectedIds.size} messages stored by the killed agent`,
    );
    const telemetryTs = new Set(sub.json<{ ts: string }>(`${base}/telemetry/temperature`).map((t) => Date.parse(t.ts)));
    expect(before.readingTs.filter((ts) => !telemetryTs.has(ts))).toEqual([]);
    expect((await second.stop('SIGTERM')).code).toBe(0);
  }, 120_000);

  it('refuses a configuration with mistakes, listing every one, with exit status 78', async () => {
    const box = sandbox();
    const path = box.writeConfig({ camera: { driver: 'webcam', fps: -1 }, sensor: { interval_s: 'often' }, mqtt: { url: 42 } });
    const agent = start(path);
    const exit = await agent.exited;
    expect(exit.code).toBe(78);
    const lines = agent.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/invalid configuration in .*config\.yaml \(4 problems\)/);
    for (const key of ['camera.driver', 'camera.fps', 'sensor.interval_s', 'mqtt.url']) expect(agent.stderr).toContain(key);
  });
});

describe('several cameras in one agent', () => {
  it('runs a pipeline per camera on one detector: per-camera alerts, snapshots and Home Assistant entities', async () => {
    const box = sandbox();
    const base = 'edge/e2e-cams';
    const front = box.cameraDir([fixture('images/coffee.png'), fixture('images/person.jpg')], 'front');
    const garage = box.cameraDir([fixture('images/coffee.png'), fixture('images/dog.jpg')], 'garage');
    const { camera: _one, ...config } = e2eConfig({ deviceId: 'e2e-cams', brokerUrl: broker.url });
    const configPath = box.writeConfig({
      ...config,
      cameras: {
        front: { driver: 'dir', dir: front, fps: 4, loop: true },
        garage: { driver: 'dir', dir: garage, fps: 4, loop: true },
      },
      homeassistant: { enabled: true },
    });
    const sub = await MqttSubscriber.connect(broker.url, [`${base}/#`, 'homeassistant/device/e2e-cams/config']);
    cleanup.push(() => sub.close());
    const agent = start(configPath);
    await agent.waitReady();

    const started = (camera: string) => (m: { topic: string; payload: Buffer }[]) =>
      m.some((x) => x.topic === `${base}/alerts/intruder/${camera}` && x.payload.includes('"event":"start"')) && m.some((x) => x.topic === `${base}/snapshot/${camera}`);
    await sub.waitFor(
      (m) => started('front')(m) && started('garage')(m) && m.some((x) => x.topic === 'homeassistant/device/e2e-cams/config'),
      90_000,
      'an intrusion with its snapshot on each camera, and the discovery config',
    );
    const stopped = await agent.stop('SIGTERM');
    expect(stopped.code).toBe(0);

    const frontAlerts = sub.json<IntruderAlertPayload>(`${base}/alerts/intruder/front`);
    const garageAlerts = sub.json<IntruderAlertPayload>(`${base}/alerts/intruder/garage`);
    expect(new Set(frontAlerts.map((a) => a.camera))).toEqual(new Set(['front']));
    expect(new Set(garageAlerts.map((a) => a.camera))).toEqual(new Set(['garage']));
    expect(frontAlerts.find((a) => a.event === 'start')!.objects.map((o) => o.class)).toContain('person');
    expect(garageAlerts.find((a) => a.event === 'start')!.objects.map((o) => o.class)).toContain('dog');
    // Each camera's events are its own: no event id is shared between the cameras.
    const frontEvents = new Set(frontAlerts.map((a) => a.event_id));
    expect(garageAlerts.filter((a) => frontEvents.has(a.event_id))).toEqual([]);
    // The one-camera topics are not used with `cameras`.
    expect(sub.messages.filter((m) => m.topic === `${base}/alerts/intruder` || m.topic === `${base}/snapshot`)).toEqual([]);
    const contract = new PayloadValidator();
    for (const m of sub.messages.filter((x) => x.topic.startsWith(`${base}/`))) {
      expect(contract.problems(m.topic.slice(base.length + 1), m.payload), `${m.topic}: ${m.payload.toString('utf8', 0, 200)}`).toEqual([]);
    }

    const discovery = sub.json<{ cmps: Record<string, Record<string, unknown>> }>('homeassistant/device/e2e-cams/config').at(-1)!;
    expect(discovery.cmps.front_intrusion).toMatchObject({ p: 'binary_sensor', state_topic: `${base}/alerts/intruder/front` });
    expect(discovery.cmps.garage_intrusion).toMatchObject({ p: 'binary_sensor', state_topic: `${base}/alerts/intruder/garage` });
    expect(discovery.cmps.garage_snapshot).toMatchObject({ p: 'image', image_topic: `${base}/snapshot/garage` });
    expect(discovery.cmps).not.toHaveProperty('intrusion');
    expect(agent.errors()).toEqual([]);
  }, 150_000);
});
