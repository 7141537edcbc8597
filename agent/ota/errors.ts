/**
 * Why an update was refused, as a stable code for machines (MQTT responses, AWS IoT Jobs statusDetails)
 * and a sentence for people. Every failure of fetch, verify, validate and activate ends up as one of these.
 */
export type OtaErrorCode =
  | 'invalid_request'
  | 'unsupported_source'
  | 'not_found'
  | 'http_error'
  | 'tls_error'
  | 'network_error'
  | 'timeout'
  | 'too_large'
  | 'truncated'
  | 'checksum_mismatch'
  | 'signature_missing'
  | 'signature_invalid'
  | 'invalid_model'
  | 'install_failed'
  | 'activation_failed'
  /** An AWS IoT job cut short by reboots or power cuts more often than allowed. */
  | 'interrupted'
  | 'cancelled';

export class OtaError extends Error {
  constructor(
    readonly code: OtaErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'OtaError';
  }
}

/** Wraps anything thrown into an OtaError, keeping an OtaError's own code. */
export function toOtaError(err: unknown, fallback: OtaErrorCode): OtaError {
  if (err instanceof OtaError) return err;
  return new OtaError(fallback, err instanceof Error ? err.message : String(err));
}
