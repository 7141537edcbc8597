/**
 * Fleet provisioning by claim end to end: mosquitto with mutual TLS set up like AWS IoT Core (the
 * certificate's CN is the client's identity; the claim certificate may only use the provisioning
 * topics), a responder playing AWS's CreateCertificateFromCsr and RegisterThing, and the daemon's
 * withAwsIdentity() doing what `edge-agent run` does before the Agent starts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../agent/config/load.js';
import type { AgentConfig } from '../../agent/config/types.js';
import { keepProvisionedIdentity, withAwsIdentity, type AwsIdentityDeps } from '../../agent/daemon/aws-identity.js';
import { pollUntil } from '../../agent/lib/timing.js';
import { ProvisioningRefusedError } from '../../agent/mqtt/provisioning/api.js';
import { createCsrPem, generateDeviceKeyPem, publicKeyPemOf } from '../../agent/mqtt/provisioning/csr.js';
import { ProvisioningFiles } from '../../agent/mqtt/provisioning/files.js';
import { captureLog } from '../helpers/log-capture.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { MqttSubscriber } from '../helpers/mqtt-subscriber.js';
import { ProvisioningResponder } from './provisioning-responder.js';
import { RelayRig } from './rig.js';

const TEMPLATE = 'edge-fleet';
const DEVICE = 'pi-0042';

let broker: Mosquitto;
let observer: MqttSubscriber;
let aws: ProvisioningResponder;
let dataDir: string;
const rigs: RelayRig[] = [];

beforeAll(async () => {
  broker = await Mosquitto.start({
    tls: true,
    readers: ['observer'],
    acl: [
      // The claim certificate's policy: the provisioning topics and nothing else.
      'user claim',
      'topic readwrite $aws/certificates/create-from-csr/#',
      `topic readwrite $aws/provisioning-templates/${TEMPLATE}/provision/#`,
      'user aws-iot',
      'topic readwrite $aws/#',
    ],
  });
  const pki = broker.tls!;
  observer = await MqttSubscriber.connect(broker.url, 'things/#', { tls: { ca: pki.ca, ...pki.client('observer') } });
  aws = await ProvisioningResponder.start(broker.url, pki, pki.client('aws-iot'), TEMPLATE, 'edge-thing-0042');
});
afterAll(async () => {
  await aws?.close();
  await observer?.close();
  await broker?.dispose();
});
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'edge-provisioning-'));
  aws.csrs.length = 0;
  aws.registrations.length = 0;
  aws.refuseCsr = null;
  aws.refuseRegister = null;
});
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function deviceConfig(template = TEMPLATE): AgentConfig {
  const pki = broker.tls!;
  const claim = pki.client('claim');
  return loadConfig({
    env: {},
    overrides: {
      device_id: DEVICE,
      data_dir: dataDir,
      mqtt: { url: broker.url, ca: pki.ca, aws_iot: { provisioning: { template, claim_cert: claim.cert, claim_key: claim.key, parameters: ['SerialNumber=0042'] } } },
    },
  });
}

/** Provisions as `edge-agent run` does, retrying at once (the backoff's timing is not under test here). */
function provision(config: AgentConfig, log = captureLog(), notify?: AwsIdentityDeps['notify']) {
  return withAwsIdentity(config, { logger: log.logger, notify, tuning: { backoff: { baseMs: 10, maxMs: 50 }, requestTimeoutMs: 10_000 } });
}

const files = () => new ProvisioningFiles(dataDir);
/** The public key a CSR carries, as SPKI PEM (node:crypto does not read CSRs). */
const csrPublicKey = (csrPem: string) => execFileSync('openssl', ['req', '-noout', '-pubkey'], { input: csrPem }).toString('utf8');
const mode = (path: string) => statSync(path).mode & 0o777;

/** The device connects with its new identity: client id, topics and certificate of the thing. */
async function expectConnectsAsThing(config: AgentConfig): Promise<void> {
  const rig = RelayRig.create(config.mqtt, { deviceId: DEVICE });
  rigs.push(rig);
  expect(rig.relay.baseTopic).toBe('things/edge-thing-0042');
  await rig.relay.start();
  await observer.waitForMessage((m) => m.topic === 'things/edge-thing-0042/status' && m.payload.toString() === 'online', 20_000, 'the thing online');
  expect(broker.log).toMatch(/New client connected from 127\.0\.0\.1:\d+ as edge-thing-0042/);
}

describe('provisioning by claim over MQTT with mutual TLS', () => {
  it('makes a key and a CSR, gets a certificate, registers the thing, stores it all 0600, and connects as the thing', async () => {
    const extensions: number[] = [];
    const config = await provision(deviceConfig(), captureLog(), { extendTimeout: (ms) => Promise.resolve(void extensions.push(ms)) });

    // systemd was asked for more start-up time while the device provisioned.
    expect(extensions[0]).toBe(60_000);
    expect(config.mqtt.aws_iot.thing_name).toBe('edge-thing-0042');
    expect(config.mqtt.cert).toBe(files().certFile);
    expect(config.mqtt.key).toBe(files().keyFile);
    expect(aws.csrs).toHaveLength(1);
    // The CSR was made with the stored key, for the device id.
    expect(csrPublicKey(aws.csrs[0]!)).toBe(publicKeyPemOf(readFileSync(files().keyFile, 'utf8')));
    expect(aws.registrations).toEqual([{ template: TEMPLATE, certificateOwnershipToken: expect.any(String), parameters: { DeviceId: DEVICE, SerialNumber: '0042' } }]);
    for (const name of readdirSync(files().dir)) expect(mode(join(files().dir, name)), name).toBe(0o600);
    expect(readdirSync(files().dir).sort()).toEqual(['device.crt', 'device.key', 'thing.json']);
    await expectConnectsAsThing(config);

    // The next start finds the identity on disk and asks AWS nothing.
    const again = await provision(deviceConfig());
    expect(again.mqtt.aws_iot.thing_name).toBe('edge-thing-0042');
    expect(aws.csrs).toHaveLength(1);
    // A remote change loads the file again: the identity carries over, it is not a change.
    expect(keepProvisionedIdentity(config, deviceConfig())).toEqual(config);
  });

  it('stops with AWS\'s reason when the CSR is refused, without asking again', async () => {
    aws.refuseCsr = { statusCode: 403, errorCode: 'Forbidden', errorMessage: 'the claim certificate is revoked' };
    const log = captureLog();
    const refused = await provision(deviceConfig(), log).catch((err: unknown) => err);

    expect(refused).toBeInstanceOf(ProvisioningRefusedError);
    expect((refused as Error).message).toBe('CreateCertificateFromCsr refused by AWS IoT: Forbidden (403): the claim certificate is revoked');
    expect(aws.csrs).toHaveLength(1);
    expect(log.matching(/^provisioning stopped: CreateCertificateFromCsr refused/)).toHaveLength(1);
    // The key stays: a later attempt (a fixed policy) sends a CSR for the same key.
    expect(mode(files().keyFile)).toBe(0o600);
  });

  it('stops with AWS\'s reason when RegisterThing is refused', async () => {
    aws.refuseRegister = { statusCode: 400, errorCode: 'InvalidParameters', errorMessage: 'SerialNumber is not in the allow list' };
    const refused = await provision(deviceConfig()).catch((err: unknown) => err);

    expect((refused as Error).message).toBe('RegisterThing refused by AWS IoT: InvalidParameters (400): SerialNumber is not in the allow list');
    expect(aws.registrations).toHaveLength(1);
    expect(aws.csrs).toHaveLength(1);
  });

  it('retries a throttled request and then succeeds', async () => {
    aws.refuseCsr = { statusCode: 429, errorCode: 'Throttling', errorMessage: 'rate exceeded' };
    const log = captureLog();
    const done = provision(deviceConfig(), log);
    await pollUntil(() => aws.csrs.length >= 2, 20_000);
    aws.refuseCsr = null;
    expect((await done).mqtt.aws_iot.thing_name).toBe('edge-thing-0042');
    expect(log.matching(/^provisioning attempt failed, retrying in/).length).toBeGreaterThanOrEqual(2);
  });
});

describe('resuming after a power cut', () => {
  it('with the key stored and the certificate received but not saved: a new CSR for the same key', async () => {
    const keyPem = generateDeviceKeyPem();
    await files().saveKey(keyPem);
    // What a cut in the middle of writing pending.json leaves: its temporary file, half written.
    writeFileSync(join(files().dir, '.pending.json.1b2c.tmp'), '{"certificateId":"ab');

    const config = await provision(deviceConfig());

    expect(aws.csrs).toHaveLength(1);
    expect(csrPublicKey(aws.csrs[0]!)).toBe(publicKeyPemOf(keyPem));
    expect(readdirSync(files().dir).sort()).toEqual(['device.crt', 'device.key', 'thing.json']);
    await expectConnectsAsThing(config);
  });

  it('with the certificate and token stored but no thing: RegisterThing with the stored token, no new CSR', async () => {
    const keyPem = generateDeviceKeyPem();
    await files().saveKey(keyPem);
    const issued = aws.issue(createCsrPem(keyPem, DEVICE));
    await files().saveIssuedCertificate(issued);

    const config = await provision(deviceConfig());

    expect(aws.csrs).toHaveLength(0);
    expect(aws.registrations.map((r) => r.certificateOwnershipToken)).toEqual([issued.certificateOwnershipToken]);
    await expectConnectsAsThing(config);
  });

  it('with a stored token AWS no longer takes: one new CSR for the same key, then RegisterThing', async () => {
    const keyPem = generateDeviceKeyPem();
    await files().saveKey(keyPem);
    await files().saveIssuedCertificate({ ...aws.issue(createCsrPem(keyPem, DEVICE)), certificateOwnershipToken: 'expired-token' });

    const config = await provision(deviceConfig());

    expect(aws.registrations.map((r) => r.certificateOwnershipToken)).toEqual(['expired-token', expect.not.stringMatching(/^expired-token$/)]);
    expect(aws.csrs).toHaveLength(1);
    expect(csrPublicKey(aws.csrs[0]!)).toBe(publicKeyPemOf(keyPem));
    expect(config.mqtt.aws_iot.thing_name).toBe('edge-thing-0042');
  });

  it('with the thing stored: done, nothing is asked', async () => {
    const keyPem = generateDeviceKeyPem();
    await files().saveKey(keyPem);
    await files().saveThing(aws.issue(createCsrPem(keyPem, DEVICE)).certificatePem, 'edge-thing-0042');

    const config = await provision(deviceConfig());

    expect(config.mqtt.aws_iot.thing_name).toBe('edge-thing-0042');
    expect(aws.csrs).toHaveLength(0);
    expect(aws.registrations).toHaveLength(0);
  });
});

