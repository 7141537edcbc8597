/**
 * The demo as `npm start` runs it (the embedded defaults: the simulated sensor, the shipped forecaster),
 * only pointed at a test broker and without the HTTP API: its first forecast comes at its first reading,
 * from the hour of simulated history the sensor provides, not an hour later.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TemperatureForecastPayload, TemperatureTelemetryPayload } from '../../agent/mqtt/contract/topics.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { MqttSubscriber } from '../helpers/mqtt-subscriber.js';
import { AgentProcess, AgentSandbox } from './agent-process.js';

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

describe('the demo on the embedded defaults', () => {
  it('forecasts at its first reading, from an hour of simulated history marked as such', async () => {
    const base = 'edge/demo';
    const sub = await MqttSubscriber.connect(broker.url, [`${base}/forecast/temperature`, `${base}/telemetry/temperature`]);
    const config = box.writeConfig({ device_id: 'demo', mqtt: { url: broker.url, embedded_broker: { enabled: false } }, http: { enabled: false } });
    const agent = AgentProcess.start(['run', '--config', config]);
    try {
      // `npm start`'s promise: a forecast within a minute.
      await sub.waitForMessage((m) => m.topic.endsWith('/forecast/temperature'), 60_000, 'the first forecast');
    } finally {
      await agent.stop('SIGTERM');
      await sub.close();
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
