/**
 * Plays AWS IoT Core's fleet provisioning over a real broker (mutual TLS, as the `aws-iot` client):
 * CreateCertificateFromCsr signs the CSR with the test CA (the certificate's CN is the thing name the
 * template will give, as the broker's ACL names things by CN) and hands out an ownership token;
 * RegisterThing takes a token it issued and answers with the thing name. Either can be told to refuse.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, type MqttClient } from 'mqtt';
import type { CertFiles, TestPki } from '../helpers/pki.js';

export interface Refusal {
  statusCode: number;
  errorCode: string;
  errorMessage: string;
}

const CSR_TOPIC = '$aws/certificates/create-from-csr/json';

export class ProvisioningResponder {
  /** Every CSR received, in order. */
  readonly csrs: string[] = [];
  /** Every RegisterThing request received, in order. */
  readonly registrations: { template: string; certificateOwnershipToken: string; parameters: Record<string, string> }[] = [];
  refuseCsr: Refusal | null = null;
  refuseRegister: Refusal | null = null;
  private readonly tokens = new Set<string>();

  private constructor(
    private readonly client: MqttClient,
    private readonly pki: TestPki,
    readonly template: string,
    readonly thingName: string,
  ) {}

  static async start(url: string, pki: TestPki, service: CertFiles, template: string, thingName: string): Promise<ProvisioningResponder> {
    const client = connect(url, { ca: pki.caPem, cert: readFileSync(service.cert), key: readFileSync(service.key), clientId: 'aws-iot-service', reconnectPeriod: 100 });
    client.on('error', () => {});
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    const responder = new ProvisioningResponder(client, pki, template, thingName);
    client.on('message', (topic, payload) => responder.onMessage(topic, payload));
    await client.subscribeAsync([CSR_TOPIC, '$aws/provisioning-templates/+/provision/json'], { qos: 1 });
    return responder;
  }

  /** A certificate and ownership token as CreateCertificateFromCsr would give them (to stage a crash after it). */
  issue(csrPem: string): { certificateId: string; certificatePem: string; certificateOwnershipToken: string } {
    const certificatePem = this.pki.signCsr(csrPem, this.thingName);
    const certificateOwnershipToken = randomUUID();
    this.tokens.add(certificateOwnershipToken);
    return { certificateId: createHash('sha256').update(certificatePem).digest('hex'), certificatePem, certificateOwnershipToken };
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }

  private onMessage(topic: string, payload: Buffer): void {
    const body = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    if (topic === CSR_TOPIC) {
      this.csrs.push(String(body.certificateSigningRequest));
      if (this.refuseCsr) return this.answer(topic, 'rejected', this.refuseCsr);
      return this.answer(topic, 'accepted', this.issue(String(body.certificateSigningRequest)));
    }
    const template = topic.split('/')[2] ?? '';
    const token = String(body.certificateOwnershipToken);
    this.registrations.push({ template, certificateOwnershipToken: token, parameters: body.parameters as Record<string, string> });
    if (this.refuseRegister) return this.answer(topic, 'rejected', this.refuseRegister);
    if (template !== this.template) return this.answer(topic, 'rejected', { statusCode: 404, errorCode: 'ResourceNotFound', errorMessage: `template ${template} not found` });
    if (!this.tokens.has(token)) return this.answer(topic, 'rejected', { statusCode: 400, errorCode: 'InvalidCertificateOwnershipToken', errorMessage: 'the token is invalid or expired' });
    return this.answer(topic, 'accepted', { thingName: this.thingName, deviceConfiguration: {} });
  }

  private answer(topic: string, outcome: 'accepted' | 'rejected', body: object): void {
    void this.client.publishAsync(`${topic}/${outcome}`, JSON.stringify(body), { qos: 1 });
  }
}

