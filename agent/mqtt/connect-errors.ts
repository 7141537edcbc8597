/**
 * Why a broker connection failed, in words that tell the user what to fix: the raw errors of
 * net/tls/mqtt.js ("socket hang up", "SSL alert number 48", "Connection refused: Not authorized")
 * do not say whose certificate is wrong or which setting to change.
 */

const CONNACK_REASONS: Record<number, string> = {
  1: 'the broker does not accept MQTT 3.1.1',
  2: 'the broker rejected the client id (set mqtt.client_id)',
  3: 'the broker is unavailable',
  4: 'bad user name or password (mqtt.username / mqtt.password_file)',
  5: 'not authorised: the broker refused these credentials or this client id',
  133: 'the broker rejected the client id (set mqtt.client_id)',
  134: 'bad user name or password (mqtt.username / mqtt.password_file)',
  135: 'not authorised: the broker refused these credentials or this client id',
};

/** Node's codes when the agent does not trust the broker's certificate. */
const SERVER_CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** `connected`: the error ended an established connection (not a failed attempt). */
export function describeConnectError(err: unknown, url: string, connected = false): string {
  if (!(err instanceof Error)) return String(err ?? 'connection closed');
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'number') return `${CONNACK_REASONS[code] ?? `refused with code ${code}`} (${err.message})`;
  if (typeof code !== 'string') return err.message;
  if (SERVER_CERT_CODES.has(code)) {
    return `the broker's certificate is not trusted (${code}): set mqtt.ca to the CA that signed it (${err.message})`;
  }
  // The broker's TLS alerts: it did not accept the certificate the agent presented.
  if (/^ERR_SSL_(TLSV1|SSLV3|TLSV13)_ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|CERTIFICATE_REQUIRED|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|ACCESS_DENIED)$/.test(code)) {
    return `the broker rejected the client certificate (${code}): check mqtt.cert and mqtt.key, and that the broker trusts their CA`;
  }
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused: no broker is listening at ${url}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve the broker's host name in ${url} (${code})`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `cannot reach ${url}: the network or the host is down (${code})`;
    case 'ECONNRESET':
    case 'EPIPE': {
      // A reset during a TLS handshake is how some brokers turn a client certificate down.
      const hint = !connected && /^(mqtts|wss):/.test(url) ? '; during a TLS handshake this usually means it rejected the client certificate' : '';
      return `the broker closed the connection (${code})${hint}`;
    }
    default:
      return `${err.message} (${code})`;
  }
}
