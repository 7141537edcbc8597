/**
 * The MQTT broker: a real connection with the agent's own options (credentials, CA, client certificate)
 * under a client id of its own, so a running agent is not kicked off. Optional: the agent buffers in its
 * outbox while the broker is away, so an unreachable broker is reported but does not fail doctor.
 * With several broker URLs (failover) each is checked, and the worst result counts. A device that
 * provisions by claim connects with the certificate stored by provisioning, so that one is used.
 */
import { connectAsync } from 'mqtt';
import { provisionsByClaim, storedAwsIdentity, withIdentity } from '../daemon/aws-identity.js';
import { brokerUrls, buildClientOptions, isPlaceholderBroker, mqttClientId } from '../mqtt/client-options.js';
import { explainConnectError } from '../mqtt/connect-errors.js';
import { redactUrl } from '../lib/redact-url.js';
import { fail, pass, warn, type Check, type CheckResult, type CheckStatus, type DoctorContext } from './types.js';

const TLS_PROTOCOLS = new Set(['mqtts:', 'wss:', 'ssl:', 'tls:']);

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || hostname.startsWith('127.');
}

export const brokerCheck: Check = {
  id: 'broker',
  title: 'MQTT broker',
  required: false,
  async run(context): Promise<CheckResult> {
    let config = context.config;
    if (provisionsByClaim(config)) {
      // The device connects with the certificate provisioning gave it, which is not in the file.
      const identity = await storedAwsIdentity(config).catch(() => null);
      if (identity === null) return warn('not provisioned yet: the device has no certificate to connect with', 'see the provisioning check: the agent connects once it is provisioned');
      config = withIdentity(config, identity);
    }
    const results: CheckResult[] = [];
    for (const url of brokerUrls(config.mqtt)) results.push(await checkBroker(url, { ...context, config }));
    return results.length === 1 ? results[0]! : worstOf(results);
  },
};

const SEVERITY: Record<CheckStatus, number> = { pass: 0, warn: 1, fail: 2 };

/** Several brokers: the worst status, every broker's line, and the hints of those not passing. */
function worstOf(results: CheckResult[]): CheckResult {
  const status = results.reduce<CheckStatus>((worst, r) => (SEVERITY[r.status] > SEVERITY[worst] ? r.status : worst), 'pass');
  const hints = [...new Set(results.flatMap((r) => (r.hint === undefined ? [] : [r.hint])))];
  const message = results.map((r) => r.message).join('; ');
  return status === 'pass' ? pass(message) : { status, message, hint: hints.join('; ') };
}

async function checkBroker(brokerUrl: string, { config, timeoutMs }: DoctorContext): Promise<CheckResult> {
  const { mqtt, device_id: deviceId } = config;
  const where = redactUrl(brokerUrl);
  let url: URL;
  try {
    url = new URL(brokerUrl);
  } catch {
    return fail(`mqtt.url ${JSON.stringify(where)} is not a URL`, 'use mqtt://host:1883 or mqtts://host:8883');
  }
  if (isPlaceholderBroker(brokerUrl)) {
    // The example configuration's placeholder: contact nothing until the owner names their broker.
    return warn(`mqtt.url is not configured yet (${where} is a placeholder)`, "set mqtt.url to your broker's address, e.g. mqtt://192.0.2.10:1883, then run doctor again");
  }
  const tls = TLS_PROTOCOLS.has(url.protocol);
  let options;
  try {
    options = { ...buildClientOptions(mqtt, deviceId, brokerUrl), clientId: `${mqttClientId(mqtt, deviceId)}-doctor`, connectTimeout: timeoutMs };
  } catch (err) {
    return fail((err as Error).message, 'fix the file path in the mqtt section');
  }
  // No will: doctor's own disconnect must not announce the agent offline.
  delete options.will;
  try {
    const client = await connectAsync(brokerUrl, options, false);
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
}
