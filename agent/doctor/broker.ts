/**
 * The MQTT broker: a real connection with the agent's own options (credentials, CA, client certificate)
 * under a client id of its own, so a running agent is not kicked off. Optional: the agent buffers in its
 * outbox while the broker is away, so an unreachable broker is reported but does not fail doctor.
 */
import { connectAsync } from 'mqtt';
import { buildClientOptions, isPlaceholderBroker, mqttClientId } from '../mqtt/client-options.js';
import { explainConnectError } from '../mqtt/connect-errors.js';
import { redactUrl } from '../lib/redact-url.js';
import { fail, pass, warn, type Check, type CheckResult } from './types.js';

const TLS_PROTOCOLS = new Set(['mqtts:', 'wss:', 'ssl:', 'tls:']);

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || hostname.startsWith('127.');
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
    if (isPlaceholderBroker(mqtt.url)) {
      // The example configuration's placeholder: contact nothing until the owner names their broker.
      return warn(`mqtt.url is not configured yet (${where} is a placeholder)`, "set mqtt.url to your broker's address, e.g. mqtt://192.0.2.10:1883, then run doctor again");
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
      const embedded = mqtt.embedded_broker;
      if (embedded.enabled && isLoopback(url.hostname) && Number(url.port) === embedded.port && (err as NodeJS.ErrnoException).code === 'ECONNREFUSED') {
        return warn(`${where}: the embedded broker is not running (${(err as Error).message})`, 'it starts with the agent: run doctor again while edge-agent runs');
      }
      const { problem, fix } = explainConnectError(err, where);
      return fail(`${where}: ${problem}`, fix ?? 'check mqtt.url and the broker');
    }
    if (tls) return pass(`${where}: connected over TLS, certificate verified`);
    if (isLoopback(url.hostname)) return pass(`${where}: connected (plain MQTT on this machine)`);
    return warn(`${where}: connected without TLS`, 'data and credentials cross the network in clear: use mqtts:// (port 8883) with mqtt.ca');
  },
};
