/**
 * The Agent composed with fake hardware (a paced sensor, a recording GPIO output) and a fake forecaster,
 * against a real mosquitto: lifecycle order, commands and their replies, and a clean shutdown.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/daemon/agent.js';
import type { CommandResponsePayload } from '../../agent/mqtt/contract/topics.js';
import { defaultConfig } from '../../agent/config/load.js';
import type { AgentConfig } from '../../agent/config/types.js';
import { EventBus } from '../../agent/runtime/event-bus.js';
import { silentLogger } from '../../agent/lib/log.js';
import { SqliteStore } from '../../agent/store/store.js';
import type { Forecaster } from '../../models/types.js';
import { FakeAlarmOutput } from '../fakes/alarm-output.js';
import { FakeTemperatureSensor, type ScriptedReading } from '../fakes/temperature-sensor.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { MqttSubscriber } from '../helpers/mqtt-subscriber.js';
import { connect } from 'mqtt';

/** One reading every 2 ms of wall time, one minute apart in data time (like a fast replay). */
function pacedSensor(): FakeTemperatureSensor {
  function* everyMinute(): Generator<ScriptedReading> {
    for (let i = 0; ; i++) yield { valid: true, celsius: 20 + (i % 10) / 10, ts: Date.UTC(2015, 1, 2) + i * 60_000 };
  }
  return new FakeTemperatureSensor(everyMinute(), { readMs: 2 });
}

const flatForecaster = (): Forecaster => ({
  info: { name: 'flat', version: '1', sha256: '0'.repeat(64), path: '/dev/null' },
  contract: { window: 60, step_s: 60, horizon_s: 3600, unit: 'Celsius' },
  forecast: async (values) => Number(values.at(-1)!.toFixed(2)),
  forecastBatch: async (windows) => windows.map((w) => Number(w.at(-1)!.toFixed(2))),
  close: async () => {},
});

let broker: Mosquitto;
let dir: string;
beforeAll(async () => {
  broker = await Mosquitto.start();
  dir = mkdtempSync(join(tmpdir(), 'agent-'));
});
afterAll(async () => {
  await broker.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function configFor(deviceId: string): AgentConfig {
  const config = defaultConfig();
  config.device_id = deviceId;
  config.data_dir = join(dir, deviceId);
  config.mqtt.url = broker.url;
  config.mqtt.embedded_broker.enabled = false;
  config.sensor.driver = 'replay'; // the sensor paces itself
  config.forecast.every_s = 600;
  config.alarm.hold_s = 60;
  return config;
}

async function publish(topic: string, payload: string) {
  const client = connect(broker.url);
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  await client.publishAsync(topic, payload, { qos: 1 });
  await client.endAsync();
}

describe('Agent', () => {
  it('runs the telemetry pipeline, answers commands, and shuts down cleanly in reverse order', async () => {
    const config = configFor('agent-cmd');
    const base = `edge/${config.device_id}`;
    const sub = await MqttSubscriber.connect(broker.url, `${base}/#`);
    const sensor = pacedSensor();
    const output = new FakeAlarmOutput();
    const dbPath = join(config.data_dir, 'agent.db');
    const agent = new Agent({
      config,
      logger: silentLogger(),
      bus: new EventBus(silentLogger()),
      openHardware: async () => ({ alarmOutput: output, sensor, createCamera: null }),
      openStore: () => SqliteStore.open(dbPath, { logger: silentLogger(), config: config.store }),
      loadIntruder: async () => null,
      loadForecaster: async () => flatForecaster(),
    });
    try {
      await agent.start();
      expect(Object.keys(agent.health().components)).toEqual(['store', 'mqtt', 'alarm', 'models', 'telemetry']);
      await sub.waitFor((m) => m.some((x) => x.topic === `${base}/forecast/temperature`), 20_000, 'a forecast');

      await publish(`${base}/cmd/alarm`, JSON.stringify({ action: 'test', duration_s: 30, transaction: 'r-1' }));
      await publish(`${base}/cmd/forecast-now`, JSON.stringify({ transaction: 'r-2' }));
      await publish(`${base}/cmd/alarm`, '{"action":"explode"}');
      await publish(`${base}/cmd/reboot`, '{"transaction":3}');
      await sub.waitFor(
        (m) =>
          m.filter((x) => x.topic === `${base}/cmd/alarm/response`).length === 2 &&
          m.some((x) => x.topic === `${base}/cmd/forecast-now/response`) &&
          m.some((x) => x.topic === `${base}/cmd/reboot/response`),
        10_000,
        'the command responses',
      );
      const [test, refused] = sub.json<CommandResponsePayload>(`${base}/cmd/alarm/response`);
      expect(test).toMatchObject({ status: 'ok', transaction: 'r-1', data: { alarm: 'on' } });
      expect(refused).toMatchObject({ status: 'error', data: { code: 'invalid_request' }, error: 'unknown action "explode": expected "silence", "test" or "off"' });
      expect(refused).not.toHaveProperty('transaction');
      const [now] = sub.json<CommandResponsePayload>(`${base}/cmd/forecast-now/response`);
      expect(now).toMatchObject({ status: 'ok', transaction: 'r-2' });
      expect(sub.json<CommandResponsePayload>(`${base}/cmd/reboot/response`)[0]).toMatchObject({ status: 'error', transaction: 3, data: { code: 'unknown_command' } });
      await sub.waitFor((m) => m.some((x) => x.payload.includes(String(now!.data['forecast_id'])) && x.topic === `${base}/forecast/temperature`), 5_000, 'the commanded forecast');
      expect(output.levels.at(-1)).toBe(true);
    } finally {
      await agent.stop();
    }
    // Reverse order: the alarm went off and its state was flushed before the relay said offline.
    expect(output.levels.at(-1)).toBe(false);
    expect(output.isClosed && sensor.isClosed).toBe(true);
    await sub.waitFor((m) => m.at(-1)?.topic === `${base}/status`, 5_000, 'offline');
    const states = sub.on(`${base}/alarm`).map((m) => m.payload.toString());
    expect(states.at(-1)).toBe('off');
    expect(sub.on(`${base}/status`).at(-1)!.payload.toString()).toBe('offline');
    const db = new Database(dbPath, { readonly: true });
    expect((db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n).toBe(0);
    db.close();
    await sub.close();
  });

  it('closes the hardware and the models it opened when the store cannot be opened', async () => {
    const config = configFor('agent-fail');
    const output = new FakeAlarmOutput();
    const sensor = pacedSensor();
    let forecasterClosed = false;
    const agent = new Agent({
      config,
      logger: silentLogger(),
      bus: new EventBus(silentLogger()),
      openHardware: async () => ({ alarmOutput: output, sensor, createCamera: null }),
      openStore: () => {
        throw new Error('/var/lib/edge-agent/edge-agent.db is not a usable SQLite database (SQLITE_NOTADB)');
      },
      loadIntruder: async () => null,
      loadForecaster: async () => ({ ...flatForecaster(), close: async () => void (forecasterClosed = true) }),
    });
    await expect(agent.start()).rejects.toThrow(/SQLITE_NOTADB/);
    await agent.stop();
    expect(output.isClosed && sensor.isClosed && forecasterClosed).toBe(true);
  });
});
