/**
 * `edge-agent doctor`'s provisioning check with real PEM files (the test PKI's openssl CA, the
 * provisioning code's own key and CSR helpers) and real provisioning state written by ProvisioningFiles;
 * and the broker check of a provisioned device, against a real mosquitto with mutual TLS.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../agent/config/load.js';
import type { AgentConfig, AwsProvisioningConfig, MqttConfig } from '../../agent/config/types.js';
import { brokerCheck } from '../../agent/doctor/broker.js';
import { provisioningCheck } from '../../agent/doctor/provisioning.js';
import type { DoctorContext } from '../../agent/doctor/types.js';
import { createCsrPem, generateDeviceKeyPem } from '../../agent/mqtt/provisioning/csr.js';
import { ProvisioningFiles } from '../../agent/mqtt/provisioning/files.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import type { CertFiles, TestPki } from '../helpers/pki.js';
import { doctorContext } from './context.js';

const DEVICE = 'pi-0007';
const THING = 'edge-thing-7';
const TEMPLATE = 'edge-fleet';
const DAY_MS = 24 * 3600 * 1000;

let broker: Mosquitto;
let pki: TestPki;
let claim: CertFiles;
beforeAll(async () => {
  broker = await Mosquitto.start({ tls: true });
  pki = broker.tls!;
  claim = pki.client('claim');
});
afterAll(async () => {
  await broker?.dispose();
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'doctor-provisioning-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function configWith(provisioning: Partial<AwsProvisioningConfig>, mqtt: Partial<MqttConfig> = {}): AgentConfig {
  const config = defaultConfig();
  config.device_id = DEVICE;
  config.data_dir = join(dir, 'data');
  config.mqtt = { ...config.mqtt, ...mqtt, aws_iot: { thing_name: null, provisioning: { ...config.mqtt.aws_iot.provisioning, ...provisioning } } };
  return config;
}

const byClaim = (files: Partial<AwsProvisioningConfig> = {}) => configWith({ template: TEMPLATE, claim_cert: claim.cert, claim_key: claim.key, ...files });
const check = (config: AgentConfig, extra: Partial<DoctorContext> = {}) => provisioningCheck.run(doctorContext(dir, config, extra));
const certificateOf = (path: string) => new X509Certificate(readFileSync(path));
const day = (date: string) => new Date(date).toISOString().slice(0, 10);
const claimUntil = () => day(certificateOf(claim.cert).validTo);

/** What a finished provisioning leaves in <data_dir>/aws-iot/: a key, its certificate (CN = the thing), the thing name. */
async function provisioned(config: AgentConfig): Promise<ProvisioningFiles> {
  const files = new ProvisioningFiles(config.data_dir);
  const keyPem = generateDeviceKeyPem();
  await files.saveKey(keyPem);
  await files.saveThing(pki.signCsr(createCsrPem(keyPem, DEVICE), THING), THING);
  return files;
}

describe('provisioning check', () => {
  it('passes when provisioning by claim is not configured or not used, and warns about claim files without a template', async () => {
    expect(provisioningCheck.required).toBe(true);
    expect(await check(configWith({}))).toEqual({ status: 'pass', message: 'provisioning by claim is not configured' });

    const noTemplate = await check(configWith({ claim_cert: claim.cert, claim_key: claim.key }));
    expect(noTemplate).toMatchObject({ status: 'warn', message: 'a claim certificate is configured but no template: provisioning by claim is off' });
    expect(noTemplate.hint).toContain('set mqtt.aws_iot.provisioning.template');

    const own = pki.client(THING);
    const withOwnCertificate = configWith({ template: TEMPLATE, claim_cert: claim.cert, claim_key: claim.key }, { cert: own.cert, key: own.key });
    expect(await check(withOwnCertificate)).toEqual({ status: 'pass', message: `not used: the device has a certificate of its own (mqtt.cert ${own.cert})` });
  });

  it('names the provisioned thing and its certificate files, and fails when they no longer make a pair', async () => {
    const config = byClaim();
    const files = await provisioned(config);
    const until = day(certificateOf(files.certFile).validTo);
    expect(await check(config)).toEqual({ status: 'pass', message: `provisioned as thing ${THING} (${files.certFile}, ${files.keyFile}), certificate valid until ${until}` });

    writeFileSync(files.certFile, readFileSync(claim.cert));
    const damaged = await check(config);
    expect(damaged).toMatchObject({ status: 'fail', message: `provisioned as thing ${THING}, but ${files.keyFile} is not the private key of ${files.certFile}` });
    expect(damaged.hint).toBe(`move ${files.dir} away and restart edge-agent: it provisions again with the claim certificate`);
  });

  it('passes with a claim certificate and key that make a valid pair, before the first provisioning', async () => {
    expect(await check(byClaim())).toEqual({ status: 'pass', message: `not provisioned yet: the next start provisions (template ${TEMPLATE}, claim certificate valid until ${claimUntil()})` });
  });

  it('fails when a claim file is missing or is not PEM', async () => {
    const missing = join(dir, 'nowhere', 'claim.pem.crt');
    const absent = await check(byClaim({ claim_cert: missing }));
    expect(absent).toMatchObject({ status: 'fail', message: `claim certificate: cannot read ${missing} (ENOENT)` });
    expect(absent.hint).toContain('fix the path in mqtt.aws_iot.provisioning');

    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'this is not a certificate\n');
    const notCertificate = await check(byClaim({ claim_cert: garbage }));
    expect(notCertificate).toMatchObject({ status: 'fail', message: `claim certificate: ${garbage} is not a PEM certificate` });
    expect(notCertificate.hint).toContain('-----BEGIN CERTIFICATE-----');
    // The certificate where the key belongs.
    expect(await check(byClaim({ claim_key: claim.cert }))).toMatchObject({ status: 'fail', message: `claim certificate: ${claim.cert} is not a PEM private key` });
  });

  it('fails for a claim certificate that has expired or is not valid yet', async () => {
    const { validFrom, validTo } = certificateOf(claim.cert);
    const expired = await check(byClaim(), { now: () => new Date(validTo).getTime() + DAY_MS });
    expect(expired).toMatchObject({ status: 'fail', message: `claim certificate: ${claim.cert} expired on ${new Date(validTo).toISOString()}` });
    expect(expired.hint).toContain('create a new claim certificate in AWS IoT');

    const early = new Date(validFrom).getTime() - 3600_000;
    const notYet = await check(byClaim(), { now: () => early });
    expect(notYet).toMatchObject({
      status: 'fail',
      message: `claim certificate: ${claim.cert} is valid only from ${new Date(validFrom).toISOString()} (the clock says ${new Date(early).toISOString()})`,
    });
    expect(notYet.hint).toContain('check the clock');
  });

  it('fails when the claim key is not the claim certificate\'s key', async () => {
    const other = pki.client('someone-else');
    const mismatch = await check(byClaim({ claim_key: other.key }));
    expect(mismatch).toEqual({
      status: 'fail',
      message: `claim certificate: ${other.key} is not the private key of ${claim.cert}`,
      hint: 'use the private key that was created together with this claim certificate',
    });
  });

  it('reports a provisioning interrupted halfway as resuming, and leaves its files as they are', async () => {
    const config = byClaim();
    const files = new ProvisioningFiles(config.data_dir);
    const keyPem = generateDeviceKeyPem();
    await files.saveKey(keyPem);
    // A write in progress (or cut by a power loss): only the daemon may remove it.
    const inProgress = join(files.dir, '.pending.json.1b2c.tmp');
    writeFileSync(inProgress, '{"certificateId":"ab');
    expect(await check(config)).toEqual({
      status: 'pass',
      message: `interrupted, will resume: the device key is stored, the next start asks for its certificate (template ${TEMPLATE}, claim certificate valid until ${claimUntil()})`,
    });
    expect(existsSync(inProgress)).toBe(true);

    await files.saveIssuedCertificate({ certificateId: 'c0ffee42', certificatePem: pki.signCsr(createCsrPem(keyPem, DEVICE), THING), certificateOwnershipToken: 'token-1' });
    expect(await check(config)).toEqual({
      status: 'pass',
      message: `interrupted, will resume: certificate c0ffee42 is stored, the next start registers the thing (template ${TEMPLATE}, claim certificate valid until ${claimUntil()})`,
    });
    // Resuming still needs the claim certificate: a broken one fails.
    expect((await check(byClaim({ claim_key: pki.client('someone-else').key }))).status).toBe('fail');
  });
});

describe('broker check of a device that provisions by claim', () => {
  it('connects with the certificate provisioning stored, and only warns before there is one', async () => {
    const config = byClaim();
    config.mqtt = { ...config.mqtt, url: broker.url, ca: pki.ca, prefix: 'things' };
    const before = await brokerCheck.run(doctorContext(dir, config));
    expect(before).toMatchObject({ status: 'warn', message: 'not provisioned yet: the device has no certificate to connect with' });

    await provisioned(config);
    expect(await brokerCheck.run(doctorContext(dir, config))).toEqual({ status: 'pass', message: `${broker.url}: connected over TLS, certificate verified` });
    expect(broker.log).toMatch(new RegExp(`New client connected from 127\\.0\\.0\\.1:\\d+ as ${THING}-doctor`));
  });
});
