/**
 * Provisioning by claim, step by step: a key pair (stored before anything is sent), CreateCertificateFromCsr,
 * the certificate and ownership token stored, RegisterThing, the thing name stored. Each attempt starts
 * from what is on disk, so a power cut or a lost connection resumes at the step it interrupted.
 *
 * Transient failures (no connection, a timeout, throttling, a service error) are retried with backoff
 * from 5 s to 10 min; a refusal that asking again will not change (a bad request, a policy that forbids
 * it, an unknown template) ends provisioning with a ProvisioningRefusedError. One exception: an ownership
 * token kept across a restart may have expired (AWS keeps them a few minutes), so a permanent refusal of
 * a stored token is answered once with a new CSR for the same key.
 */
import { X509Certificate, createPublicKey } from 'node:crypto';
import { Backoff, type BackoffTiming } from '../../lib/backoff.js';
import type { Logger } from '../../lib/log.js';
import { abortableSleep, type Sleep } from '../../lib/timing.js';
import {
  CREATE_CERTIFICATE_TOPICS,
  createCertificateRequest,
  parseIssuedCertificate,
  parseRefusal,
  parseRegisteredThing,
  ProvisioningRefusedError,
  ProvisioningResponseError,
  registerThingRequest,
  registerThingTopics,
  type IssuedCertificate,
} from './api.js';
import { createCsrPem, generateDeviceKeyPem } from './csr.js';
import type { DeviceIdentity, ProvisioningFiles } from './files.js';
import { ProvisioningSession, type ClaimConnection } from './session.js';

export const PROVISIONING_BACKOFF: BackoffTiming = { baseMs: 5_000, maxMs: 600_000 };

export interface ProvisionerDeps {
  files: ProvisioningFiles;
  /** The claim connection for attempt n (0-based): files are read at each attempt, URLs taken in turn. */
  connection: (attempt: number) => ClaimConnection;
  template: string;
  parameters: Record<string, string>;
  /** The CSR's subject CN. */
  deviceId: string;
  logger: Logger;
  backoff?: BackoffTiming;
  requestTimeoutMs?: number;
  sleep?: Sleep;
  /** Called before each attempt (the daemon extends systemd's start timeout). */
  onAttempt?: (attempt: number) => void;
}

export class Provisioner {
  private readonly logger: Logger;

  constructor(private readonly deps: ProvisionerDeps) {
    this.logger = deps.logger.child({ module: 'provisioning' });
  }

  /** Resolves with the device's identity once provisioned; rejects on a permanent refusal or `signal`. */
  async run(signal?: AbortSignal): Promise<DeviceIdentity> {
    const backoff = new Backoff(this.deps.backoff ?? PROVISIONING_BACKOFF);
    const sleep = this.deps.sleep ?? abortableSleep;
    let staleTokenRetried = false;
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      const state = await this.deps.files.load();
      if (state.step === 'done') return state.identity;
      this.deps.onAttempt?.(attempt);
      try {
        return await this.attempt(attempt, state.step === 'new' ? null : state.keyPem, state.step === 'certificate' ? state.certificate : null);
      } catch (err) {
        if (err instanceof ProvisioningRefusedError && err.permanent) {
          if (err.operation === 'RegisterThing' && state.step === 'certificate' && !staleTokenRetried) {
            staleTokenRetried = true;
            this.logger.warn({ err }, 'the stored ownership token was refused: asking for a new certificate for the same key');
            await this.deps.files.discardIssuedCertificate();
            continue;
          }
          this.logger.error({ err }, `provisioning stopped: ${err.message}`);
          throw err;
        }
        const delayMs = backoff.nextDelayMs();
        this.logger.warn({ err, retry_in_ms: delayMs }, `provisioning attempt failed, retrying in ${Math.round(delayMs / 1000)} s: ${(err as Error).message}`);
        await sleep(delayMs, signal);
      }
    }
  }

  /** One connection: the steps that remain after `keyPem` and `certificate` (null = not there yet). */
  private async attempt(attempt: number, storedKeyPem: string | null, storedCertificate: IssuedCertificate | null): Promise<DeviceIdentity> {
    const timeoutMs = this.deps.requestTimeoutMs ?? 30_000;
    const session = await ProvisioningSession.open(this.deps.connection(attempt), timeoutMs);
    try {
      let keyPem = storedKeyPem;
      if (keyPem === null) {
        keyPem = generateDeviceKeyPem();
        // Before the CSR leaves: a certificate AWS issues for this key must never be unusable.
        await this.deps.files.saveKey(keyPem);
      }
      let certificate = storedCertificate;
      if (certificate === null) {
        certificate = await this.createCertificate(session, keyPem, timeoutMs);
        await this.deps.files.saveIssuedCertificate(certificate);
        this.logger.info({ certificate_id: certificate.certificateId }, 'certificate issued and stored');
      }
      const answer = await session.request(registerThingTopics(this.deps.template), registerThingRequest(certificate.certificateOwnershipToken, this.deps.parameters), timeoutMs);
      if (!answer.accepted) throw parseRefusal(answer.payload, 'RegisterThing');
      const { thingName } = parseRegisteredThing(answer.payload);
      const identity = await this.deps.files.saveThing(certificate.certificatePem, thingName);
      this.logger.info({ thing_name: thingName, certificate_id: certificate.certificateId }, `provisioned as thing ${thingName}`);
      return identity;
    } finally {
      await session.close();
    }
  }

  private async createCertificate(session: ProvisioningSession, keyPem: string, timeoutMs: number): Promise<IssuedCertificate> {
    const answer = await session.request(CREATE_CERTIFICATE_TOPICS, createCertificateRequest(createCsrPem(keyPem, this.deps.deviceId)), timeoutMs);
    if (!answer.accepted) throw parseRefusal(answer.payload, 'CreateCertificateFromCsr');
    const certificate = parseIssuedCertificate(answer.payload);
    assertCertifiesKey(certificate.certificatePem, keyPem);
    return certificate;
  }
}

/** A certificate for another key would lock the device out at its next connection. */
function assertCertifiesKey(certificatePem: string, keyPem: string): void {
  let matches: boolean;
  try {
    matches = new X509Certificate(certificatePem).publicKey.equals(createPublicKey(keyPem));
  } catch (err) {
    throw new ProvisioningResponseError(`CreateCertificateFromCsr: the certificate cannot be read: ${(err as Error).message}`);
  }
  if (!matches) throw new ProvisioningResponseError('CreateCertificateFromCsr: the certificate is not for the key the CSR was made with');
}
