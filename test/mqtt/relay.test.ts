import { readFileSync } from 'node:fs';
import { connect as mqttConnect, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PayloadValidator } from '../../agent/mqtt/contract/schemas.js';
import type { TemperatureTelemetryPayload } from '../../agent/mqtt/contract/topics.js';
import { BROKERS, type TestBroker } from '../helpers/brokers.js';
import { fixture } from '../helpers/fixtures.js';
import { freePort, Mosquitto } from '../helpers/mosquitto.js';
import { MqttSubscriber } from '../helpers/mqtt-subscriber.js';
import { mqttConfig, readingSeqs, RelayRig } from './rig.js';

const open: (RelayRig | MqttSubscriber)[] = [];

afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

function rig(...args: Parameters<typeof RelayRig.create>): RelayRig {
  const r = RelayRig.create(...args);
  open.push(r);
  return r;
}

/** Wraps mqtt.js connect to watch what the relay does on the wire. */
function watchPublishes() {
  const seen = { outstanding: 0, maxOutstanding: 0, qos: new Set<number>(), clients: [] as MqttClient[] };
  const connect = ((url: string, options: object) => {
    const client = mqttConnect(url, options);
    seen.clients.push(client);
    const publish = client.publish.bind(client) as (...a: unknown[]) => MqttClient;
    (client as unknown as { publish: unknown }).publish = (topic: string, payload: unknown, opts: { qos: number }, cb: (err?: Error) => void) => {
      seen.qos.add(opts.qos);
      const data = !topic.endsWith('/status');
      if (data) seen.maxOutstanding = Math.max(seen.maxOutstanding, ++seen.outstanding);
      return publish(topic, payload, opts, (err?: Error) => {
        if (data) seen.outstanding--;
        cb(err);
      });
    };
    return client;
  }) as typeof mqttConnect;
  return { seen, connect };
}

describe.each(BROKERS)('MqttRelay against $name', ({ start }) => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await start();
  });
  afterAll(async () => {
    await broker.dispose();
  });

  async function subscribe(filter: string): Promise<MqttSubscriber> {
    const s = await MqttSubscriber.connect(broker.url, filter);
    open.push(s);
    return s;
  }

  it('delivers every kind of message in order, each valid against its schema, and empties the outbox on PUBACKs', async () => {
    const r = rig(mqttConfig(broker.url));
    const sub = await subscribe(`${r.relay.baseTopic}/#`);
    const m = r.messages;
    // Buffered before the relay starts (broker "down" for this device), then more while it runs.
    r.enqueueReadings(0, 150);
    r.store.saveReading({ valid: false, error: 'CRC mismatch', ts: Date.now(), sensor: 'sht3x@0x44' }, [
      m.telemetry({ valid: false, error: 'CRC mismatch', ts: Date.now(), sensor: 'sht3x@0x44' }),
    ]);
    const alert = { id: '0190a0d6-7b1a-7c3e-8f00-000000000001', event_id: 'ev-1', camera: 'main', event: 'start' as const, ts: Date.now(), snapshot: null, model: { name: 'yolov8n', version: '1' }, objects: [{ class: 'person', confidence: 0.9, bbox: { xmin: 1, ymin: 2, xmax: 3, ymax: 4 }, track_id: 't1', top_score: 0.9, stationary: false, zones: [] }] };
    r.store.saveDetection(alert, [m.intruderAlert(alert), m.snapshot(readFileSync(fixture('images/dog.jpg')))]);
    const fc = { id: '0190a0d6-7b1a-7c3e-8f00-000000000002', ts: Date.now(), predicted_celsius: 21.37, horizon_s: 3600, from_ts: Date.now() - 3_540_000, to_ts: Date.now(), n: 60, model: { name: 'temperature-forecast', version: '1' } };
    r.store.saveForecast(fc, [m.forecast(fc), m.temperatureAlert({ ts: fc.ts, kind: 'high', threshold_c: 21, predicted_celsius: 21.37, horizon_s: 3600, forecast_id: fc.id })]);
    r.store.enqueue([
      m.alarmState(true),
      m.modelInfo({ role: 'forecast', name: 'temperature-forecast', version: '1', sha256: 'a'.repeat(64), activated_at: new Date().toISOString() }),
      m.commandResponse('alarm', { status: 'ok', data: { alarm: 'off' }, transaction: 'r1' }),
    ]);
    await r.relay.start();
    r.enqueueReadings(150, 150);

    await sub.waitFor((msgs) => msgs.length >= 309, 15_000, 'every message');
    const contract = new PayloadValidator();
    for (const msg of sub.messages) {
      const suffix = msg.topic.slice(r.relay.baseTopic.length + 1);
      expect({ topic: msg.topic, problems: contract.problems(suffix, msg.payload) }).toEqual({ topic: msg.topic, problems: [] });
    }
    expect(sub.messages[0]).toMatchObject({ topic: `${r.relay.baseTopic}/status` });
    expect(sub.messages[0]!.payload.toString()).toBe('online');
    const telemetry = sub.json<TemperatureTelemetryPayload>(`${r.relay.baseTopic}/telemetry/temperature`);
    expect(readingSeqs(telemetry.filter((t) => t.valid))).toEqual([...Array(300).keys()]);
    expect(telemetry.find((t) => !t.valid)).toMatchObject({ celsius: null, error: 'CRC mismatch', sensor: 'sht3x@0x44' });
    expect(sub.on(`${r.relay.baseTopic}/snapshot`)[0]!.payload).toEqual(readFileSync(fixture('images/dog.jpg')));
    await expect.poll(() => r.store.outboxDepth()).toBe(0);
    expect(r.relay.health()).toMatchObject({ state: 'ok', connected: true, outbox: 0 });
  });

  it('keeps at most max_inflight messages unacknowledged, all at QoS 1', async () => {
    const { seen, connect } = watchPublishes();
    const r = rig(mqttConfig(broker.url, { max_inflight: 7 }), { relay: { connect } });
    const sub = await subscribe(`${r.relay.baseTopic}/telemetry/#`);
    r.enqueueReadings(0, 500);
    await r.relay.start();
    await sub.waitFor((msgs) => msgs.length >= 500, 15_000, '500 readings');
    expect(seen.maxOutstanding).toBe(7);
    expect([...seen.qos]).toEqual([1]);
  });

  it('publishes a retained online; when the connection dies the broker publishes its will (offline), and it comes back online', async () => {
    const { seen, connect } = watchPublishes();
    const r = rig(mqttConfig(broker.url), { relay: { connect } });
    const sub = await subscribe(`${r.relay.baseTopic}/status`);
    await r.relay.start();
    await sub.waitFor((msgs) => msgs.length === 1, 5_000, 'online');
    seen.clients[0]!.stream.destroy(); // no DISCONNECT: the broker sends the will
    await sub.waitFor((msgs) => msgs.length === 3, 5_000, 'offline then online');
    expect(sub.messages.map((msg) => msg.payload.toString())).toEqual(['online', 'offline', 'online']);
    expect(r.log.matching(/lost the connection to mqtt:\/\/127\.0\.0\.1:\d+: .*retrying in/)).toHaveLength(1);
  });

  it('stop() delivers what is waiting, publishes a retained offline, and loses nothing', async () => {
    const r = rig(mqttConfig(broker.url));
    const sub = await subscribe(`${r.relay.baseTopic}/#`);
    await r.relay.start();
    await sub.waitFor((msgs) => msgs.length === 1, 5_000, 'online');
    r.enqueueReadings(0, 1000);
    await r.relay.stop();
    expect(r.store.outboxDepth()).toBe(0);
    await sub.waitFor((msgs) => msgs.at(-1)?.payload.toString() === 'offline', 5_000, 'offline');
    expect(readingSeqs(sub.json(`${r.relay.baseTopic}/telemetry/temperature`))).toEqual([...Array(1000).keys()]);
    const late = await subscribe(`${r.relay.baseTopic}/status`);
    await late.waitFor((msgs) => msgs.length === 1, 5_000, 'retained status');
    expect(late.messages[0]).toMatchObject({ retain: true });
    expect(late.messages[0]!.payload.toString()).toBe('offline');
  });

  it('calls subscription handlers, again after the broker restarted; a throwing handler is logged, not fatal', { timeout: 120_000 }, async () => {
    const r = rig(mqttConfig(broker.url));
    const got: string[] = [];
    r.relay.subscribe(`${r.relay.baseTopic}/cmd/+`, (topic, payload) => {
      got.push(`${topic.split('/').pop()}=${payload.toString()}`);
      if (payload.toString() === 'boom') throw new Error('handler bug');
    });
    await r.relay.start();
    await expect.poll(() => r.relay.connected).toBe(true);
    const other = await MqttSubscriber.connect(broker.url, 'unused/#');
    open.push(other);
    const publisher = mqttConnect(broker.url);
    await new Promise((resolve) => publisher.once('connect', resolve));
    try {
      await publisher.publishAsync(`${r.relay.baseTopic}/cmd/alarm`, 'boom', { qos: 1 });
      await expect.poll(() => got).toEqual(['alarm=boom']);
      expect(r.log.matching(/handler for a message on .*cmd\/alarm failed/)).toHaveLength(1);
      await broker.stop();
      await broker.resume();
      await expect.poll(() => r.relay.connected, { timeout: 5_000 }).toBe(true);
      // The relay subscribes again as it connects: the PUBACK of a publish it sends after that means the
      // broker has handled the subscription (it handles one connection's packets in order).
      await r.relay.publishDirect(`${r.relay.baseTopic}/test/marker`, 'resubscribed');
      await publisher.publishAsync(`${r.relay.baseTopic}/cmd/forecast-now`, '{}', { qos: 1 });
      await expect.poll(() => got, { timeout: 5_000 }).toEqual(['alarm=boom', 'forecast-now={}']);
    } finally {
      await publisher.endAsync(true);
    }
  });

  it('publishDirect sends at once when connected and rejects clearly when not', async () => {
    const r = rig(mqttConfig(broker.url));
    await expect(r.relay.publishDirect('x/y', 'z')).rejects.toThrow(/^not connected to mqtt:\/\/127\.0\.0\.1:\d+$/);
    const sub = await subscribe('$aws-like/jobs/#');
    await r.relay.start();
    await expect.poll(() => r.relay.connected).toBe(true);
    await r.relay.publishDirect('$aws-like/jobs/start-next', '{"clientToken":"t"}', { qos: 1 });
    await sub.waitFor((msgs) => msgs.length === 1, 5_000, 'the direct message');
    expect(r.store.outboxDepth()).toBe(0);
  });
});

describe('MqttRelay without a broker', () => {
  it('when no broker listens: logs why, keeps retrying with backoff, and delivers once one appears', async () => {
    const later = await Mosquitto.start();
    await later.stop();
    try {
      const r = rig(mqttConfig(later.url));
      r.enqueueReadings(0, 20);
      await r.relay.start();
      await expect.poll(() => r.log.matching(/^cannot connect to /).length, { timeout: 5_000 }).toBeGreaterThanOrEqual(3);
      expect(r.log.matching(/^cannot connect to /)[0]!.msg).toMatch(
        /^cannot connect to mqtt:\/\/127\.0\.0\.1:\d+: connection refused: no broker is listening there: start the broker, or fix mqtt\.url; retrying in \d+\.\d s$/,
      );
      expect(r.relay.health()).toMatchObject({ state: 'degraded', detail: expect.stringMatching(/connection refused.*20 message\(s\) waiting/) });
      await later.resume();
      const sub = await MqttSubscriber.connect(later.url, `${r.relay.baseTopic}/telemetry/#`);
      open.push(sub);
      await sub.waitFor((msgs) => msgs.length === 20, 10_000, 'the buffered readings');
      expect(readingSeqs(sub.json(`${r.relay.baseTopic}/telemetry/temperature`))).toEqual([...Array(20).keys()]);
    } finally {
      for (const thing of open.splice(0).reverse()) await thing.close();
      await later.dispose();
    }
  });

  it('a certificate file that cannot be read is reported with its key and path, and retried', async () => {
    const r = rig(mqttConfig(`mqtts://127.0.0.1:${await freePort()}`, { cert: '/nonexistent/device.crt', key: '/nonexistent/device.key' }));
    await r.relay.start();
    await expect.poll(() => r.log.matching(/^cannot connect to /).length, { timeout: 5_000 }).toBeGreaterThanOrEqual(2);
    expect(r.log.matching(/^cannot connect to /)[0]!.msg).toMatch(
      /^cannot connect to mqtts:\/\/127\.0\.0\.1:\d+: mqtt\.cert: cannot read \/nonexistent\/device\.crt: ENOENT: no such file or directory.*; retrying in/,
    );
  });
});

