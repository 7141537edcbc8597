/**
 * One MQTT connection made with the claim certificate, for the provisioning requests. Each request
 * subscribes to its `/accepted` and `/rejected` topics before publishing (AWS answers only subscribers,
 * and an answer that arrives before the subscription would be lost), waits for the first answer or a
 * timeout, and unsubscribes.
 */
import { readFileSync } from 'node:fs';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import type { MqttConfig } from '../../config/types.js';
import { withTimeout } from '../../lib/timing.js';
import { brokerUrls } from '../client-options.js';
import type { ApiTopics } from './api.js';

export interface ClaimConnection {
  url: string;
  clientId: string;
  ca: Buffer | null;
  cert: Buffer;
  key: Buffer;
  keepaliveS: number;
}

/**
 * The claim connection of attempt `attempt`: the brokers of `mqtt.url` in turn, the claim certificate,
 * and a client id of its own (AWS IoT drops the older of two connections with the same client id).
 */
export function claimConnection(config: MqttConfig, deviceId: string, attempt: number, readFile: (path: string) => Buffer = readFileSync): ClaimConnection {
  const { claim_cert: certFile, claim_key: keyFile } = config.aws_iot.provisioning;
  if (certFile === null || keyFile === null) throw new Error('mqtt.aws_iot.provisioning.claim_cert and claim_key are required to provision by claim');
  const read = (key: string, path: string): Buffer => {
    try {
      return readFile(path);
    } catch (err) {
      throw new Error(`mqtt.aws_iot.provisioning.${key}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
    }
  };
  const urls = brokerUrls(config);
  return {
    url: urls[attempt % urls.length] as string,
    clientId: `provisioning-${deviceId}`.slice(0, 128),
    ca: config.ca === null ? null : readFile(config.ca),
    cert: read('claim_cert', certFile),
    key: read('claim_key', keyFile),
    keepaliveS: config.keepalive_s,
  };
}

export type Answer = { accepted: true; payload: Buffer } | { accepted: false; payload: Buffer };

export class ProvisioningSession {
  private constructor(private readonly client: MqttClient) {}

  static async open(connection: ClaimConnection, timeoutMs: number): Promise<ProvisioningSession> {
    const options: IClientOptions = {
      clientId: connection.clientId,
      protocolVersion: 4,
      keepalive: connection.keepaliveS,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: timeoutMs,
      cert: connection.cert,
      key: connection.key,
      writeCache: false,
    };
    if (connection.ca !== null) options.ca = connection.ca;
    if (new URL(connection.url).port === '443') options.ALPNProtocols = ['x-amzn-mqtt-ca'];
    return new ProvisioningSession(await connectAsync(connection.url, options, false));
  }

  /** Publishes `payload` on `topics.request` and resolves with the answer; rejects after `timeoutMs` or on a disconnect. */
  async request(topics: ApiTopics, payload: Buffer, timeoutMs: number): Promise<Answer> {
    let onMessage: ((topic: string, message: Buffer) => void) | undefined;
    let onClose: (() => void) | undefined;
    const answer = new Promise<Answer>((resolve, reject) => {
      onMessage = (topic, message) => {
        if (topic === topics.accepted) resolve({ accepted: true, payload: message });
        else if (topic === topics.rejected) resolve({ accepted: false, payload: message });
      };
      onClose = () => reject(new Error('the connection with the claim certificate closed before AWS IoT answered'));
      this.client.on('message', onMessage);
      this.client.on('close', onClose);
    });
    try {
      const work = (async () => {
        const granted = await this.client.subscribeAsync([topics.accepted, topics.rejected], { qos: 1 });
        // 128 = the broker refused the subscription: the claim policy does not allow these topics.
        if (granted.some((g) => g.qos === 128)) throw new Error(`subscribing to ${topics.accepted} was refused (does the claim certificate's policy allow it?)`);
        await this.client.publishAsync(topics.request, payload, { qos: 1 });
        return answer;
      })();
      return await withTimeout(work, timeoutMs, { message: `no answer on ${topics.accepted} within ${timeoutMs / 1000} s` });
    } finally {
      if (onMessage) this.client.off('message', onMessage);
      if (onClose) this.client.off('close', onClose);
      answer.catch(() => {});
      await this.client.unsubscribeAsync([topics.accepted, topics.rejected]).catch(() => {});
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync(true).catch(() => {});
  }
}
