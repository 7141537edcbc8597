/**
 * The MQTT broker: a real connection with the agent's own options (credentials, CA, client certificate)
 * under a client id of its own, so a running agent is not kicked off. Optional: the agent buffers in its
 * outbox while the broker is away, so an unreachable broker is reported but does not fail doctor.
 */
import { connectAsync } from 'mqtt';
import { buildClientOptions, mqttClientId, redactUrl } from '../mqtt/client-options.js';
import { fail, pass, warn, type Check, type CheckResult } from './types.js';

const TLS_PROTOCOLS = new Set(['mqtts:', 'wss:', 'ssl:', 'tls:']);

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || hostname.startsWith('127.');
}

function hintFor(message: string): string {
  if (/ECONNREFUSED/.test(message)) return 'nothing listens there: start the broker, or fix mqtt.url';
  if (/ENOTFOUND|EAI_AGAIN/.test(message)) return 'the host name does not resolve: check mqtt.url and DNS';
  if (/certificate|self.signed|CERT_|unable to verify/i.test(message)) return "the broker's certificate is not trusted: set mqtt.ca to the CA that signed it";
  if (/Not authorized|Bad username|Connection refused: (Not|Bad)/i.test(message)) return 'the broker refused the credentials: check mqtt.username, mqtt.password_file, mqtt.cert and mqtt.key';
  if (/timeout|timed out/i.test(message)) return 'no answer: check the address, the port and any firewall';
  return 'check mqtt.url and the broker';
}

export const brokerCheck: Check = {
  id: 'broker',
  title: 'MQTT broker',
  required: false,
  async run({ config, timeoutMs }): Promise<CheckResult> {
    const { mqtt, device_id: deviceId } = config;
    const where = redactUrl(mqtt.url);
    let url: URL;
    try {
      url = new URL(mqtt.url);
    } catch {
      return fail(`mqtt.url ${JSON.stringify(where)} is not a URL`, 'use mqtt://host:1883 or mqtts://host:8883');
    }
    const tls = TLS_PROTOCOLS.has(url.protocol);
    let options;
    try {
      options = { ...buildClientOptions(mqtt, deviceId), clientId: `${mqttClientId(mqtt, deviceId)}-doctor`, connectTimeout: timeoutMs };
    } catch (err) {
      return fail((err as Error).message, 'fix the file path in the mqtt section');
    }
    // No will: doctor's own disconnect must not announce the agent offline.
    delete options.will;
    try {
      const client = await connectAsync(mqtt.url, options, false);
      await client.endAsync();
    } catch (err) {
      const message = (err as Error).message;
      const embedded = mqtt.embedded_broker;
      if (embedded.enabled && isLoopback(url.hostname) && Number(url.port) === embedded.port && /ECONNREFUSED/.test(message)) {
        return warn(`${where}: the embedded broker is not running (${message})`, 'it starts with the agent: run doctor again while edge-agent runs');
      }
      return fail(`${where} is not reachable: ${message}`, hintFor(message));
    }
    if (tls) return pass(`${where}: connected over TLS, certificate verified`);
    if (isLoopback(url.hostname)) return pass(`${where}: connected (plain MQTT on this machine)`);
    return warn(`${where}: connected without TLS`, 'data and credentials cross the network in clear: use mqtts:// (port 8883) with mqtt.ca');
  },
};
