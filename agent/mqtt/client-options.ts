/**
 * How the agent's MQTT settings become an mqtt.js connection: base topic, client id, credentials and
 * TLS files, and the AWS IoT Core profile (mTLS with the device certificate on 8883, client id = thing
 * name, topics under `things/<thing>/`, payloads up to 128 KB).
 */
import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';
import type { MqttConfig } from '../config/types.js';
import { baseTopic, Topic } from './contract/topics.js';

/** AWS IoT Core refuses larger publishes (and disconnects the client that sends one). */
export const AWS_IOT_MAX_PAYLOAD_BYTES = 128 * 1024;

/**
 * A broker address that stands for "not configured yet": a host under `.invalid`, the top-level domain
 * that never resolves (RFC 6761), as in the example configuration. Nothing is sent to it, not even a DNS
 * query: the agent runs locally and keeps its messages until the owner names a broker.
 */
export function isPlaceholderBroker(url: string): boolean {
  try {
    return /(^|\.)invalid\.?$/i.test(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** `mqtt.url` as the brokers to try, in order: a single URL is a list of one. */
export function brokerUrls(config: MqttConfig): string[] {
  return typeof config.url === 'string' ? [config.url] : [...config.url];
}

/** The AWS IoT profile: a thing name, or provisioning by claim (which yields one). */
export function isAwsIot(config: MqttConfig): boolean {
  return config.aws_iot.thing_name !== null || config.aws_iot.provisioning.template !== null;
}

/**
 * `<prefix>/<device>`: with the AWS profile the device part is the thing name, which is what an IoT
 * policy such as `things/${iot:Connection.Thing.ThingName}/*` allows.
 */
export function mqttBaseTopic(config: MqttConfig, deviceId: string): string {
  return baseTopic(config.prefix, config.aws_iot.thing_name ?? deviceId);
}

export function mqttClientId(config: MqttConfig, deviceId: string): string {
  return config.client_id ?? config.aws_iot.thing_name ?? `edge-agent-${deviceId}`;
}

/** The largest payload the broker accepts, or null when it has no practical limit. */
export function maxPayloadBytes(config: MqttConfig): number | null {
  return isAwsIot(config) ? AWS_IOT_MAX_PAYLOAD_BYTES : null;
}

type ReadFile = (path: string) => Buffer;

/**
 * The mqtt.js options for one connection attempt to `url` (one of brokerUrls()). Files (password, CA,
 * certificate, key) are read here, at every attempt, so a certificate renewed on disk is picked up by
 * the next reconnect; a file that cannot be read throws an error naming the key and the path.
 */
export function buildClientOptions(config: MqttConfig, deviceId: string, url: string, readFile: ReadFile = readFileSync): IClientOptions {
  const read = (key: string, path: string): Buffer => {
    try {
      return readFile(path);
    } catch (err) {
      throw new Error(`mqtt.${key}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
    }
  };
  const options: IClientOptions = {
    clientId: mqttClientId(config, deviceId),
    protocolVersion: 4,
    keepalive: config.keepalive_s,
    // The outbox in SQLite is the session: nothing needs to survive on the broker side.
    clean: true,
    // The relay reconnects itself, with exponential backoff, on a fresh client.
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    // Otherwise mqtt-packet pre-builds a 2-byte Buffer for each of the 65,536 packet ids at the first
    // packet: about 6 MB of heap, 3% of the memory budget, to save an allocation per publish.
    writeCache: false,
    will: { topic: `${mqttBaseTopic(config, deviceId)}/${Topic.status}`, payload: Buffer.from('offline'), qos: 1, retain: true },
  };
  if (config.username !== null) options.username = config.username;
  if (config.password_file !== null) options.password = read('password_file', config.password_file).toString('utf8').trim();
  if (config.ca !== null) options.ca = read('ca', config.ca);
  if (config.cert !== null) options.cert = read('cert', config.cert);
  if (config.key !== null) options.key = read('key', config.key);
  // AWS IoT Core serves MQTT over TLS on 443 only to clients that ask for it by ALPN.
  if (isAwsIot(config) && new URL(url).port === '443') options.ALPNProtocols = ['x-amzn-mqtt-ca'];
  return options;
}
