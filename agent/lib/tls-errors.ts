/**
 * Node's error codes when this side does not trust the certificate the server presented (unknown or
 * self-signed CA, expired, not yet valid, wrong host name): the fix is a CA setting, whoever the server
 * is (the MQTT broker, a model download mirror).
 */
const UNTRUSTED_SERVER_CERT_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function isUntrustedServerCertCode(code: unknown): code is string {
  return typeof code === 'string' && UNTRUSTED_SERVER_CERT_CODES.has(code);
}
