/**
 * Why a broker connection failed, in words that tell the user what to fix: the raw errors of
 * net/tls/mqtt.js ("socket hang up", "SSL alert number 48", "Connection refused: Not authorized")
 * do not say whose certificate is wrong or which setting to change. The relay logs it and shows it in
 * /health; `edge-agent doctor` shows the problem and gives the fix as its hint. Both name the broker's
 * URL before it, so the explanation does not repeat it.
 */
import { isUntrustedServerCertCode } from '../lib/tls-errors.js';

export interface ConnectErrorExplanation {
  /** What went wrong, with the code or the broker's own words in parentheses. */
  problem: string;
  /** What to check or change; null when nothing more specific than the problem itself can be said. */
  fix: string | null;
}

const CLIENT_ID = { problem: 'the broker rejected the client id', fix: 'set mqtt.client_id' };
const CREDENTIALS = { problem: 'bad user name or password', fix: 'check mqtt.username and mqtt.password_file' };
const NOT_AUTHORISED = {
  problem: 'not authorised: the broker refused these credentials or this client id',
  fix: 'check mqtt.username, mqtt.password_file, mqtt.cert and mqtt.key',
};

/** CONNACK return codes (MQTT 3.1.1) and reason codes (MQTT 5) that refuse a connection. */
const CONNACK_REASONS: Record<number, { problem: string; fix: string }> = {
  1: { problem: 'the broker does not accept MQTT 3.1.1', fix: 'use a broker that speaks MQTT 3.1.1' },
  2: CLIENT_ID,
  3: { problem: 'the broker is unavailable', fix: 'check the broker' },
  4: CREDENTIALS,
  5: NOT_AUTHORISED,
  133: CLIENT_ID,
  134: CREDENTIALS,
  135: NOT_AUTHORISED,
};

/** The broker's TLS alerts when it did not accept the certificate the agent presented. */
const CLIENT_CERT_REJECTED = /^ERR_SSL_(TLSV1|SSLV3|TLSV13)_ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|CERTIFICATE_REQUIRED|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|ACCESS_DENIED)$/;

/**
 * The MQTT parser's complaints about what came back (mqtt-packet): the peer answered, but not in MQTT. An
 * HTTP server's `HTTP/1.1 400` reads as a PUBACK with bad flag bits, say.
 */
const NOT_MQTT = /^(Invalid |Malformed |Cannot parse |Packet too short|Packet must not|Not supported|Unknown property|Connect flag|Will (QoS|Retain))/;

/** `url`: the broker's; `connected`: the error ended an established connection (not a failed attempt). */
export function explainConnectError(err: unknown, url: string, connected = false): ConnectErrorExplanation {
  if (!(err instanceof Error)) return { problem: String(err ?? 'connection closed'), fix: null };
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'number') {
    const reason = CONNACK_REASONS[code] ?? { problem: `refused with code ${code}`, fix: 'check the broker' };
    return { problem: `${reason.problem} (${err.message})`, fix: reason.fix };
  }
  if (typeof code !== 'string') {
    if (NOT_MQTT.test(err.message)) {
      return {
        problem: `something answered there, but it is not an MQTT broker (it sent what MQTT cannot read: ${err.message})`,
        fix: 'check the host and port in mqtt.url: brokers listen on 1883 (MQTT) or 8883 (MQTT over TLS)',
      };
    }
    // mqtt.js: no CONNACK within connectTimeout.
    if (/timeout|timed out/i.test(err.message)) return { problem: `no answer (${err.message})`, fix: 'check the address, the port and any firewall' };
    return { problem: err.message, fix: null };
  }
  if (isUntrustedServerCertCode(code)) return { problem: `the broker's certificate is not trusted (${code})`, fix: 'set mqtt.ca to the CA that signed it' };
  if (CLIENT_CERT_REJECTED.test(code)) {
    return { problem: `the broker rejected the client certificate (${code})`, fix: 'check mqtt.cert and mqtt.key, and that the broker trusts their CA' };
  }
  switch (code) {
    case 'ECONNREFUSED':
      return { problem: 'connection refused: no broker is listening there', fix: 'start the broker, or fix mqtt.url' };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { problem: `cannot resolve the host name (${code})`, fix: 'check mqtt.url and DNS' };
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return { problem: `cannot reach it: the network or the host is down (${code})`, fix: 'check the address, the port and any firewall' };
    case 'ECONNRESET':
    case 'EPIPE':
      // A reset during a TLS handshake is how some brokers turn a client certificate down.
      if (!connected && /^(mqtts|wss):/.test(url)) {
        return { problem: `the broker closed the connection during the TLS handshake (${code})`, fix: 'check mqtt.cert and mqtt.key: it usually means the broker rejected the client certificate' };
      }
      return { problem: `the broker closed the connection (${code})`, fix: 'check the broker' };
    default:
      return { problem: `${err.message} (${code})`, fix: null };
  }
}

/** The explanation as one line, for the log and /health. */
export function describeConnectError(err: unknown, url: string, connected = false): string {
  const { problem, fix } = explainConnectError(err, url, connected);
  return fix === null ? problem : `${problem}: ${fix}`;
}
