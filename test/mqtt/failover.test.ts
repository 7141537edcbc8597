import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TemperatureTelemetryPayload } from '../../agent/mqtt/contract/topics.js';
import { BrokerRotation } from '../../agent/mqtt/failover.js';
import { BROKERS, type TestBroker } from '../helpers/brokers.js';
import { freePort, Mosquitto } from '../helpers/mosquitto.js';
import { MqttSubscriber, type ReceivedMessage } from '../helpers/mqtt-subscriber.js';
import { firstArrivals, mqttConfig, readingSeqs, RelayRig } from './rig.js';

describe('BrokerRotation', () => {
  it('moves to the next broker at each failure and asks for a backoff only once every broker has failed in a row', () => {
    const brokers = new BrokerRotation(['a', 'b', 'c']);
    expect(brokers.current).toBe('a');
    expect([brokers.failed(), brokers.current]).toEqual([false, 'b']);
    expect([brokers.failed(), brokers.current]).toEqual([false, 'c']);
    expect([brokers.failed(), brokers.current]).toEqual([true, 'a']);
    expect([brokers.failed(), brokers.current]).toEqual([false, 'b']);
    // A connection resets the count: the next round starts from the broker that answered.
    brokers.connected();
    expect([brokers.failed(), brokers.failed(), brokers.failed(), brokers.current]).toEqual([false, false, true, 'b']);
  });

  it('with one broker, every failure ends a round (plain backoff)', () => {
    const brokers = new BrokerRotation(['a']);
    expect([brokers.failed(), brokers.failed(), brokers.current]).toEqual([true, true, 'a']);
  });

  it('refuses an empty list', () => {
    expect(() => new BrokerRotation([])).toThrow(/at least one broker URL/);
  });
});

// The first broker is a mosquitto (stopped and resumed in the test); the second is each kind.
describe.each(BROKERS)('MqttRelay with two brokers, mosquitto then $name', ({ start }) => {
  let first: Mosquitto;
  let second: TestBroker;
  const open: (RelayRig | MqttSubscriber)[] = [];
  beforeAll(async () => {
    [first, second] = await Promise.all([Mosquitto.start(), start()]);
  });
  afterAll(async () => {
    await Promise.all([first.dispose(), second.dispose()]);
  });
  afterEach(async () => {
    for (const thing of open.splice(0).reverse()) await thing.close();
  });

  async function subscriber(url: string, filter: string, clientId?: string): Promise<MqttSubscriber> {
    const s = await MqttSubscriber.connect(url, filter, clientId === undefined ? {} : { clientId });
    open.push(s);
    return s;
  }

  it('connects to the next broker at once when the first does not answer, and health names the one in use', async () => {
    const dead = `mqtt://127.0.0.1:${await freePort()}`;
    // A backoff this long would fail the test if the move to the second broker waited for it.
    const r = RelayRig.create(mqttConfig([dead, second.url]), { relay: { backoff: { baseMs: 60_000, maxMs: 60_000 } } });
    open.push(r);
    const sub = await subscriber(second.url, `${r.relay.baseTopic}/telemetry/#`);
    r.enqueueReadings(0, 10);
    await r.relay.start();
    await sub.waitFor((m) => m.length === 10, 10_000, 'the readings, through the second broker');
    expect(r.relay.health()).toMatchObject({ state: 'ok', url: second.url, brokers: [dead, second.url] });
    expect(r.log.matching(/^cannot connect to /).map((l) => l.msg)).toEqual([
      expect.stringMatching(new RegExp(`^cannot connect to ${dead}: connection refused.*; trying ${second.url} in 0\\.0 s$`)),
    ]);
    expect(r.log.matching(new RegExp(`^connected to ${second.url}$`))).toHaveLength(1);
  });

  it('when the broker in use dies while messages flow, delivery continues on the other and nothing is lost', { timeout: 120_000 }, async () => {
    const r = RelayRig.create(mqttConfig([first.url, second.url]), { relay: { backoff: { baseMs: 250, maxMs: 2_000 } } });
    open.push(r);
    const topic = `${r.relay.baseTopic}/telemetry/temperature`;
    // A persistent session on the first broker: what it had accepted and not yet passed on when it
    // stopped is kept in its persistence file and delivered once it is back (the broker's durability,
    // not the agent's, is not what this test is about).
    const onFirst = await subscriber(first.url, topic, `failover-${process.pid}`);
    const onSecond = await subscriber(second.url, topic);
    const arrived = (seq: number) => (m: ReceivedMessage) => m.payload.includes(`"celsius":${seq / 100},`);
    let readings = 0;
    const producer = setInterval(() => {
      r.enqueueReadings(readings, 5);
      readings += 5;
    }, 20);
    try {
      await r.relay.start();
      await onFirst.waitFor((m) => m.length >= 100, 10_000, '100 readings through the first broker');
      expect(r.relay.health()).toMatchObject({ state: 'ok', url: first.url });
      await first.stop();
      const afterKill = readings + 5;
      await onSecond.waitForMessage(arrived(afterKill), 30_000, `reading ${afterKill}, made after the first broker died`);
      expect(r.relay.health()).toMatchObject({ state: 'ok', url: second.url });
    } finally {
      clearInterval(producer);
    }
    const last = readings - 1;
    await onSecond.waitForMessage(arrived(last), 30_000, `reading ${last}`);
    await expect.poll(() => r.store.outboxDepth(), { timeout: 5_000 }).toBe(0);

    await first.resume();
    const seqs = (s: MqttSubscriber) => readingSeqs(s.json<TemperatureTelemetryPayload>(topic));
    const delivered = () => new Set([...seqs(onFirst), ...seqs(onSecond)]).size;
    await expect.poll(delivered, { timeout: 15_000 }).toBe(readings);
    // In order on each broker; the second starts where the first's acknowledgements stopped (at most a
    // window of messages sent to the first without PUBACK goes again).
    const fromSecond = firstArrivals(seqs(onSecond));
    expect(fromSecond).toEqual([...Array(fromSecond.length).keys()].map((i) => fromSecond[0]! + i));
    expect(fromSecond.at(-1)).toBe(last);
    expect(r.log.matching(new RegExp(`^lost the connection to ${first.url}: .*; trying ${first.url} in`))).toHaveLength(1);
    expect(r.log.matching(new RegExp(`^cannot connect to ${first.url}: connection refused.*; trying ${second.url} in 0\\.0 s$`))).toHaveLength(1);
  });
});
