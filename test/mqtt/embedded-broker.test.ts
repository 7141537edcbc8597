import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../agent/mqtt/embedded-broker.js';
import { captureLog } from '../helpers/log-capture.js';
import { MqttSubscriber } from '../helpers/mqtt-subscriber.js';
import { mqttConfig, readingSeqs, RelayRig } from './rig.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startBroker(port = 0): Promise<{ broker: EmbeddedBroker; log: ReturnType<typeof captureLog> }> {
  const log = captureLog();
  const broker = new EmbeddedBroker({ config: { enabled: true, host: '127.0.0.1', port }, logger: log.logger });
  await broker.start();
  cleanups.push(() => broker.stop());
  return { broker, log };
}

describe('EmbeddedBroker', () => {
  it('serves the relay and a subscriber on 127.0.0.1 (the zero-configuration demo)', async () => {
    const { broker, log } = await startBroker();
    const url = `mqtt://127.0.0.1:${broker.port}`;
    expect(log.matching(/^embedded MQTT broker listening on 127\.0\.0\.1:\d+$/)).toHaveLength(1);
    const r = RelayRig.create(mqttConfig(url));
    cleanups.push(() => r.close());
    const sub = await MqttSubscriber.connect(url, 'edge/#');
    cleanups.push(() => sub.close());
    r.enqueueReadings(0, 100);
    await r.relay.start();
    await sub.waitFor((msgs) => msgs.length >= 101, 10_000, 'online and 100 readings');
    expect(readingSeqs(sub.json(`${r.relay.baseTopic}/telemetry/temperature`))).toEqual([...Array(100).keys()]);
    expect(broker.health()).toEqual({ state: 'ok', port: broker.port });
  });

  it('uses the broker already listening on its port instead of failing', async () => {
    const { broker: first } = await startBroker();
    const { broker: second, log } = await startBroker(first.port!);
    expect(second.port).toBeNull();
    expect(second.health()).toEqual({ state: 'ok', detail: `127.0.0.1:${first.port} is already in use; the agent uses the broker listening there` });
    expect(log.matching(/^embedded broker not started: .* is already in use/)).toHaveLength(1);
  });

  it('does nothing when disabled, and stop() frees the port', async () => {
    const disabled = new EmbeddedBroker({ config: { enabled: false, host: '127.0.0.1', port: 0 }, logger: captureLog().logger });
    await disabled.start();
    expect(disabled.health()).toEqual({ state: 'disabled' });
    const { broker } = await startBroker();
    const port = broker.port!;
    await broker.stop();
    const { broker: again } = await startBroker(port);
    expect(again.port).toBe(port);
  });
});
