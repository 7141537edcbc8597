/**
 * AWS IoT fleet provisioning by claim (`mqtt.aws_iot.provisioning`). `edge-agent run` provisions before
 * the agent starts, so a claim certificate that cannot be used keeps everything from running, the camera
 * and the alarm included: required. Provisioned already: the identity in <data_dir>/aws-iot/, where
 * agent/daemon/aws-identity.ts finds it. Not yet: the claim certificate and key (readable, PEM, a pair,
 * valid now), the template name, and where a provisioning interrupted halfway will resume.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { AwsProvisioningConfig } from '../config/types.js';
import { ProvisioningFiles, type DeviceIdentity, type ProvisioningState } from '../mqtt/provisioning/files.js';
import { fail, pass, warn, type Check, type CheckResult } from './types.js';

type ProblemKind = 'unreadable' | 'not_pem' | 'mismatch' | 'expired' | 'not_yet_valid';

interface Problem {
  kind: ProblemKind;
  message: string;
}

const CLAIM_HINTS: Record<ProblemKind, string> = {
  unreadable: "fix the path in mqtt.aws_iot.provisioning, and let the agent's user read the file",
  not_pem: 'point claim_cert at the claim certificate (-----BEGIN CERTIFICATE-----) and claim_key at its private key (-----BEGIN PRIVATE KEY-----), as AWS IoT issued them',
  mismatch: 'use the private key that was created together with this claim certificate',
  expired: 'create a new claim certificate in AWS IoT, attach the claim policy to it, and replace claim_cert and claim_key',
  not_yet_valid: "check the clock (sudo timedatectl set-ntp true): TLS refuses a certificate before its start date",
};

export const provisioningCheck: Check = {
  id: 'provisioning',
  title: 'provisioning',
  required: true,
  async run({ config, now }) {
    const provisioning = config.mqtt.aws_iot.provisioning;
    if (provisioning.template === null) {
      if (provisioning.claim_cert === null && provisioning.claim_key === null) return pass('provisioning by claim is not configured');
      return warn(
        'a claim certificate is configured but no template: provisioning by claim is off',
        "set mqtt.aws_iot.provisioning.template to the fleet provisioning template's name, or remove claim_cert and claim_key",
      );
    }
    if (config.mqtt.cert !== null) return pass(`not used: the device has a certificate of its own (mqtt.cert ${config.mqtt.cert})`);
    const files = new ProvisioningFiles(config.data_dir);
    let state: ProvisioningState;
    try {
      state = await files.read();
    } catch (err) {
      return fail(`cannot read the provisioning state in ${files.dir}: ${(err as Error).message}`, `let the agent's user read ${files.dir}; if a file there is damaged, move the folder away to provision again`);
    }
    if (state.step === 'done') return checkIdentity(state.identity, files.dir, now());
    return checkClaim(provisioning, state, now());
  },
};

async function checkIdentity(identity: DeviceIdentity, dir: string, now: number): Promise<CheckResult> {
  const pair = await readPair(identity.certFile, identity.keyFile, now);
  if ('kind' in pair) {
    return fail(`provisioned as thing ${identity.thingName}, but ${pair.message}`, `move ${dir} away and restart edge-agent: it provisions again with the claim certificate`);
  }
  return pass(`provisioned as thing ${identity.thingName} (${identity.certFile}, ${identity.keyFile}), certificate valid until ${day(pair.validTo)}`);
}

async function checkClaim(provisioning: AwsProvisioningConfig, state: Exclude<ProvisioningState, { step: 'done' }>, now: number): Promise<CheckResult> {
  const { template, claim_cert: certFile, claim_key: keyFile } = provisioning;
  if (certFile === null || keyFile === null) {
    return fail(`mqtt.aws_iot.provisioning.${certFile === null ? 'claim_cert' : 'claim_key'} is not set`, 'set claim_cert and claim_key to the claim certificate and its private key');
  }
  const pair = await readPair(certFile, keyFile, now);
  if ('kind' in pair) return fail(`claim certificate: ${pair.message}`, CLAIM_HINTS[pair.kind]);
  const claim = `template ${template}, claim certificate valid until ${day(pair.validTo)}`;
  switch (state.step) {
    case 'new':
      return pass(`not provisioned yet: the next start provisions (${claim})`);
    case 'key':
      return pass(`interrupted, will resume: the device key is stored, the next start asks for its certificate (${claim})`);
    case 'certificate':
      return pass(`interrupted, will resume: certificate ${state.certificate.certificateId} is stored, the next start registers the thing (${claim})`);
  }
}

/** The certificate and key files as a usable pair (PEM, the key belongs to the certificate, valid at `now`), or what is wrong. */
async function readPair(certFile: string, keyFile: string, now: number): Promise<{ validTo: Date } | Problem> {
  const texts: string[] = [];
  for (const file of [certFile, keyFile]) {
    try {
      texts.push(await readFile(file, 'utf8'));
    } catch (err) {
      return { kind: 'unreadable', message: `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
    }
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(texts[0]!);
  } catch {
    return { kind: 'not_pem', message: `${certFile} is not a PEM certificate` };
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(texts[1]!);
  } catch {
    return { kind: 'not_pem', message: `${keyFile} is not a PEM private key` };
  }
  if (!certificate.checkPrivateKey(key)) return { kind: 'mismatch', message: `${keyFile} is not the private key of ${certFile}` };
  const validFrom = new Date(certificate.validFrom);
  const validTo = new Date(certificate.validTo);
  if (now > validTo.getTime()) return { kind: 'expired', message: `${certFile} expired on ${validTo.toISOString()}` };
  if (now < validFrom.getTime()) return { kind: 'not_yet_valid', message: `${certFile} is valid only from ${validFrom.toISOString()} (the clock says ${new Date(now).toISOString()})` };
  return { validTo };
}

const day = (date: Date) => date.toISOString().slice(0, 10);
