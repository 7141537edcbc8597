/**
 * Turns what arrives over the wire (an MQTT command payload, an AWS IoT Jobs document) into typed
 * requests, naming the first field that is missing or mistyped. Checks of the values themselves (known
 * role, version format, sha256 format, URL scheme) happen in the updater, for every trigger alike.
 */
import { quote } from '../lib/quote.js';
import { OtaError } from './errors.js';
import type { UpdateRequest } from './updater.js';

export type OtaOperation = { operation: 'model-update'; request: UpdateRequest } | { operation: 'model-rollback'; role: string };

type Json = Record<string, unknown>;

export function parseJsonObject(payload: Buffer | string, what: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString());
  } catch (err) {
    throw new OtaError('invalid_request', `${what} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new OtaError('invalid_request', `${what} must be a JSON object`);
  return value as Json;
}

function requiredString(body: Json, key: string): string {
  const value = body[key];
  if (typeof value !== 'string' || value === '') throw new OtaError('invalid_request', `'${key}' is required and must be a non-empty string`);
  return value;
}

function optionalString(body: Json, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new OtaError('invalid_request', `'${key}' must be a string`);
  return value;
}

/** `{ role, version, url, sha256, signature?, name? }` */
export function parseUpdateRequest(body: Json): UpdateRequest {
  const signature = optionalString(body, 'signature');
  const name = optionalString(body, 'name');
  return {
    role: requiredString(body, 'role'),
    version: requiredString(body, 'version'),
    url: requiredString(body, 'url'),
    sha256: requiredString(body, 'sha256'),
    ...(signature !== undefined ? { signature } : {}),
    ...(name !== undefined ? { name } : {}),
  };
}

/** `{ role }`: the request of model-rollback and model-install. */
export function parseRoleRequest(body: Json): string {
  return requiredString(body, 'role');
}

/** An AWS IoT Jobs document: `{ operation?: 'model-update' (default) | 'model-rollback', ...fields of that operation }`. */
export function parseJobDocument(body: Json): OtaOperation {
  const operation = optionalString(body, 'operation') ?? 'model-update';
  if (operation === 'model-update') return { operation, request: parseUpdateRequest(body) };
  if (operation === 'model-rollback') return { operation, role: parseRoleRequest(body) };
  throw new OtaError('invalid_request', `unknown operation ${quote(operation)} (expected model-update or model-rollback)`);
}

/** `transaction` is echoed as it came (zigbee2mqtt style): a string or a number, anything else is dropped. */
export function transactionOf(body: Json | null): string | number | undefined {
  const value = body?.['transaction'];
  return typeof value === 'string' || typeof value === 'number' ? value : undefined;
}
