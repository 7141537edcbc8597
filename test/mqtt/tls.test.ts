import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../agent/config/load.js';
import { AWS_IOT_MAX_PAYLOAD_BYTES } from '../../agent/mqtt/client-options.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import type { CertFiles } from '../helpers/pki.js';
import { MqttSubscriber } from '../helpers/mqtt-subscriber.js';
import { mqttConfig, readingSeqs, RelayRig } from './rig.js';

/**
 * mosquitto set up like AWS IoT Core: mutual TLS, the certificate's CN is the client's identity, and
 * an ACL lets each client use only `things/<its CN>/#`.
 */
let broker: Mosquitto;
let observer: MqttSubscriber;
const rigs: RelayRig[] = [];

beforeAll(async () => {
  broker = await Mosquitto.start({ tls: true, readers: ['observer'] });
  observer = await MqttSubscriber.connect(broker.url, 'things/#', { tls: { ca: broker.tls!.ca, ...broker.tls!.client('observer') } });
});
afterAll(async () => {
  await observer.close();
  await broker.dispose();
});
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
});

function awsRig(thing: string, cert: CertFiles, ca = broker.tls!.ca): RelayRig {
  const config = mqttConfig(broker.url, { prefix: 'things', ca, ...cert, aws_iot: { ...defaultConfig().mqtt.aws_iot, thing_name: thing } });
  const r = RelayRig.create(config, { deviceId: 'ignored-with-aws' });
  rigs.push(r);
  return r;
}

describe('the AWS IoT profile against mosquitto with mTLS and a per-thing ACL', () => {
  it('connects with its certificate as the thing and publishes under things/<thing>/, at most 100 a second', async () => {
    const r = awsRig('sensor-a1', broker.tls!.client('sensor-a1'));
    expect(r.relay.baseTopic).toBe('things/sensor-a1');
    r.enqueueReadings(0, 150);
    const started = Date.now();
    await r.relay.start();
    await observer.waitForMessage((m) => m.payload.includes('"celsius":1.49,'), 30_000, '150 readings');
    // The profile keeps to AWS IoT Core's 100 publishes a second: a burst of 100, then 50 more at that pace.
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(readingSeqs(observer.json('things/sensor-a1/telemetry/temperature'))).toEqual([...Array(150).keys()]);
    expect(observer.on('things/sensor-a1/status').map((m) => m.payload.toString())).toEqual(['online']);
    expect(broker.log).toMatch(/New client connected from 127\.0\.0\.1:\d+ as sensor-a1/);
  });

  it('refuses a payload over 128 KB when it is enqueued, with a clear log', () => {
    const r = awsRig('sensor-a2', broker.tls!.client('sensor-a2'));
    const jpeg = Buffer.alloc(AWS_IOT_MAX_PAYLOAD_BYTES + 1, 0xff);
    expect(r.store.enqueue([r.messages.snapshot(jpeg)])).toBe(false);
    expect(r.store.outboxDepth()).toBe(0);
    expect(r.log.matching(/^message to things\/sensor-a2\/snapshot refused: its payload is 131073 bytes, over the broker's limit of 131072 bytes$/)).toHaveLength(1);
  });

  it('with a certificate from a CA the broker does not trust: refused, logs why, keeps retrying, sends nothing', async () => {
    const r = awsRig('sensor-b1', broker.tls!.untrustedClient('sensor-b1'));
    r.enqueueReadings(0, 5);
    await r.relay.start();
    await expect.poll(() => r.log.matching(/^cannot connect to /).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    for (const line of r.log.matching(/^cannot connect to /)) {
      expect(line.msg).toMatch(
        /^cannot connect to mqtts:\/\/127\.0\.0\.1:\d+: the broker rejected the client certificate \(ERR_SSL_TLSV1_ALERT_UNKNOWN_CA\): check mqtt\.cert and mqtt\.key, and that the broker trusts their CA; retrying in \d+\.\d s$/,
      );
    }
    expect(r.relay.connected).toBe(false);
    expect(r.store.outboxDepth()).toBe(5);
    expect(observer.messages.filter((m) => m.topic.startsWith('things/sensor-b1/'))).toEqual([]);
  });

  it('without the CA of the broker: says the broker certificate is not trusted', async () => {
    const r = awsRig('sensor-c1', broker.tls!.client('sensor-c1'), broker.tls!.otherCa);
    await r.relay.start();
    await expect.poll(() => r.log.matching(/^cannot connect to /).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    expect(r.log.matching(/^cannot connect to /)[0]!.msg).toMatch(/the broker's certificate is not trusted \(\w+\): set mqtt\.ca to the CA that signed it/);
  });
});
