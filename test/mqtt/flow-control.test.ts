import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { afterEach, describe, expect, it } from 'vitest';
import { Mosquitto } from '../helpers/mosquitto.js';
import { MqttSubscriber } from '../helpers/mqtt-subscriber.js';
import { mqttConfig, readingSeqs, RelayRig } from './rig.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A real broker (aedes) that can be told to swallow data publishes: no PUBACK ever comes for them. */
async function swallowingBroker(): Promise<{ url: string; swallow: { on: boolean } }> {
  const swallow = { on: true };
  const broker = await Aedes.createBroker({
    authorizePublish: (_client, packet, done) => {
      if (swallow.on && packet.topic.includes('/telemetry/')) return; // never answered: no PUBACK
      done(null);
    },
  });
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`, swallow };
}

describe('relay flow control', () => {
  it('reconnects and sends again when a broker never acknowledges a message', async () => {
    const { url, swallow } = await swallowingBroker();
    const r = RelayRig.create(mqttConfig(url), { relay: { ackTimeoutMs: 300 } });
    cleanups.push(() => r.close());
    const sub = await MqttSubscriber.connect(url, `${r.relay.baseTopic}/telemetry/#`);
    cleanups.push(() => sub.close());
    r.enqueueReadings(0, 5);
    await r.relay.start();
    await expect.poll(() => r.log.matching(/no acknowledgement \(PUBACK\)/).length, { timeout: 5_000 }).toBe(1);
    expect(r.log.matching(/no acknowledgement/)[0]!.msg).toMatch(
      /^lost the connection to mqtt:\/\/127\.0\.0\.1:\d+: no acknowledgement \(PUBACK\) for 0\.3 s, so the unacknowledged messages go again on a new connection; retrying in/,
    );
    expect(r.store.outboxDepth()).toBe(5);
    swallow.on = false;
    await sub.waitFor((msgs) => msgs.length === 5, 5_000, 'the five readings');
    expect(readingSeqs(sub.json(`${r.relay.baseTopic}/telemetry/temperature`))).toEqual([0, 1, 2, 3, 4]);
    await expect.poll(() => r.store.outboxDepth()).toBe(0);
  });

  it('keeps to a publish rate when one is set (the AWS IoT profile sets 100/s)', async () => {
    const broker = await Mosquitto.start();
    cleanups.push(() => broker.dispose());
    const r = RelayRig.create(mqttConfig(broker.url), { relay: { publishRate: 100 } });
    cleanups.push(() => r.close());
    r.enqueueReadings(0, 250);
    const started = Date.now();
    await r.relay.start();
    await expect.poll(() => r.store.outboxDepth(), { timeout: 10_000 }).toBe(0);
    // A burst of 100, then 150 at 100/s: at least 1.5 s (a busy machine only makes it slower).
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
  });
});
