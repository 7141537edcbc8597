/**
 * A replay of the occupancy test file through the running daemon: the forecasts it publishes, made on
 * data time from windows it resampled out of SQLite, must be as good as the forecaster run directly on
 * the file's own rows, and better than predicting "no change". And the demo as `npm start` runs it (the
 * embedded defaults: the simulated sensor, the shipped forecaster), only pointed at the test broker and
 * without the HTTP API: its first forecast comes at its first reading, from the hour of simulated
 * history the sensor provides, not an hour later.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shippedModelPath } from '../../agent/lib/paths.js';
import type { TemperatureForecastPayload, TemperatureTelemetryPayload } from '../../agent/mqtt/contract/topics.js';
import { loadForecaster } from '../../models/forecast.js';
import { fixture } from '../helpers/fixtures.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { MqttSubscriber } from '../helpers/mqtt-subscriber.js';
import { AgentProcess, AgentSandbox } from './agent-process.js';
import { e2eConfig } from './config.js';

/** The file's rows: `"row","2015-02-02 14:19:00",23.7,...` (UTC times). */
function occupancyRows(path: string): { ts: number; celsius: number }[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [, date, temperature] = line.split(',');
      return { ts: Date.parse(`${date!.replaceAll('"', '').replace(' ', 'T')}Z`), celsius: Number(temperature) };
    });
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

let broker: Mosquitto;
let box: AgentSandbox;
beforeAll(async () => {
  broker = await Mosquitto.start();
  box = new AgentSandbox();
});
afterAll(async () => {
  await broker.dispose();
  box.dispose();
});

describe('replay of datatest.txt through the daemon', () => {
  it('publishes forecasts whose error matches the forecaster on the file itself, and beats persistence', async () => {
    const file = fixture('data/occupancy/datatest.txt');
    const base = 'edge/e2e-replay';
    const sub = await MqttSubscriber.connect(broker.url, [`${base}/forecast/temperature`, `${base}/telemetry/temperature`]);
    const agent = AgentProcess.start(['run', '--config', box.writeConfig(e2eConfig({ deviceId: 'e2e-replay', brokerUrl: broker.url, speed: 100_000, loop: false }))]);
    try {
      await agent.waitReady();
      // Without loop, the replay sensor reports invalid readings once the file is finished.
      await sub.waitFor((m) => m.some((x) => x.topic.endsWith('/telemetry/temperature') && x.payload.includes('"valid":false')), 120_000, 'the end of the replay');
      expect((await agent.stop('SIGTERM')).code).toBe(0);
    } finally {
      await agent.stop('SIGKILL');
      await sub.close();
    }

    const rows = occupancyRows(file);
    const index = new Map(rows.map((r, i) => [r.ts, i]));
    const nearest = (ts: number) => rows.find((r) => Math.abs(r.ts - ts) <= 30_000);
    const invalid = sub.json<TemperatureTelemetryPayload>(`${base}/telemetry/temperature`).filter((t) => !t.valid);
    expect(invalid[0]!.error).toMatch(/finished/);

    const scored = sub.json<TemperatureForecastPayload>(`${base}/forecast/temperature`).flatMap((f) => {
      const end = index.get(Date.parse(f.based_on.to));
      const actual = nearest(Date.parse(f.based_on.to) + f.horizon_s * 1000);
      return end === undefined || end < 59 || !actual ? [] : [{ f, end, actual: actual.celsius }];
    });
    // 2665 rows at one forecast per 10 minutes of data: about 260 forecasts with a known outcome.
    expect(scored.length).toBeGreaterThan(200);

    const forecaster = await loadForecaster(shippedModelPath('temperature-forecast.onnx'));
    const direct = await forecaster.forecastBatch(scored.map(({ end }) => rows.slice(end - 59, end + 1).map((r) => r.celsius)));
    await forecaster.close();

    const agentMae = mean(scored.map(({ f, actual }) => Math.abs(f.predicted_celsius - actual)));
    const directMae = mean(scored.map(({ actual }, i) => Math.abs(direct[i]! - actual)));
    const persistenceMae = mean(scored.map(({ end, actual }) => Math.abs(rows[end]!.celsius - actual)));
    console.log(`replay forecasts: ${scored.length}, MAE agent ${agentMae.toFixed(3)} °C, model on the file ${directMae.toFixed(3)} °C, persistence ${persistenceMae.toFixed(3)} °C`);
    expect(Math.abs(agentMae - directMae)).toBeLessThan(0.02);
    expect(agentMae).toBeLessThan(persistenceMae);
  }, 180_000);
});

describe('the demo on the embedded defaults', () => {
  it('forecasts at its first reading, from an hour of simulated history marked as such', async () => {
    const base = 'edge/demo';
    const sub = await MqttSubscriber.connect(broker.url, [`${base}/forecast/temperature`, `${base}/telemetry/temperature`]);
    // A sandbox of its own: a fresh store, as on a first `npm start`.
    const demoBox = new AgentSandbox();
    const config = demoBox.writeConfig({ device_id: 'demo', mqtt: { url: broker.url, embedded_broker: { enabled: false } }, http: { enabled: false } });
    const agent = AgentProcess.start(['run', '--config', config]);
    try {
      // `npm start`'s promise: a forecast within a minute.
      await sub.waitForMessage((m) => m.topic.endsWith('/forecast/temperature'), 60_000, 'the first forecast');
    } finally {
      await agent.stop('SIGTERM');
      await sub.close();
      demoBox.dispose();
    }
    const telemetry = sub.json<TemperatureTelemetryPayload>(`${base}/telemetry/temperature`);
    const history = telemetry.filter((t) => t.sensor === 'sim-history');
    const live = telemetry.filter((t) => t.sensor === 'sim');
    expect(history).toHaveLength(60);
    expect(Date.parse(history.at(-1)!.ts)).toBeLessThan(Date.parse(live[0]!.ts));
    const [first] = sub.json<TemperatureForecastPayload>(`${base}/forecast/temperature`);
    expect(first!.based_on).toMatchObject({ to: live[0]!.ts, n: 60 });
    expect(first!.model).toEqual({ name: 'temperature-forecast', version: '1.1.0' });
  });
});
