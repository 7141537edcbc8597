/**
 * What an update must prove before it is installed: its bytes match the sha256 it announced, and, when
 * `ota.public_key` is set, the announcement itself was signed by the holder of the matching Ed25519
 * private key. Remote updates need that key and a signature unless the configuration explicitly accepts
 * unsigned ones (`ota.allow_unsigned_remote_updates`); local installs from the CLI need them only when a key
 * is set.
 *
 * The signature covers the canonical manifest `{"role":...,"sha256":...,"version":...}` (keys sorted, no
 * spaces, sha256 in lowercase hex), not the URL: pre-signed download URLs change on every request, while
 * the role, version and hash are what the device must be able to trust. Since the hash is signed, the
 * signature can be checked before downloading anything, and the download is then checked against it.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { InputFileError, readRegularFileSync } from '../lib/input-file.js';
import { quote } from '../lib/quote.js';
import { OtaError } from './errors.js';

export interface SignedManifest {
  role: string;
  version: string;
  sha256: string;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const ED25519_SIGNATURE_BYTES = 64;

/** Lowercases and checks a hex sha256, naming the problem. */
export function normalizeSha256(value: unknown): string {
  const hex = typeof value === 'string' ? value.trim().toLowerCase() : '';
  if (!SHA256_HEX.test(hex)) throw new OtaError('invalid_request', `sha256 must be 64 hexadecimal characters, got ${quote(value)}`);
  return hex;
}

/** The exact bytes that are signed: keep this in step with docs/ota.md and scripts/sign-model.ts. */
export function canonicalManifest(manifest: SignedManifest): string {
  return JSON.stringify({ role: manifest.role, sha256: manifest.sha256.toLowerCase(), version: manifest.version });
}

export function checkSha256(expected: string, actual: string): void {
  if (expected.toLowerCase() !== actual.toLowerCase()) {
    throw new OtaError('checksum_mismatch', `sha256 mismatch: expected ${expected}, the downloaded file has ${actual}`);
  }
}

/**
 * Loads `ota.public_key`: inline PEM or the path of a PEM file. Throws a plain Error naming the problem
 * (the caller reports it as a configuration error at start).
 */
export function loadPublicKey(setting: string): KeyObject {
  const pem = setting.includes('-----BEGIN') ? setting : readPem(setting);
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new Error(`ota.public_key: not a PEM public key (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`ota.public_key: expected an Ed25519 key, got ${key.asymmetricKeyType ?? 'unknown'}`);
  return key;
}

/** Largest PEM file read (a key, a CA bundle): Mozilla's whole CA set is about 220 KB. */
export const MAX_PEM_BYTES = 1024 * 1024;

function readPem(path: string): string {
  try {
    return readRegularFileSync(path, MAX_PEM_BYTES).toString('utf8');
  } catch (err) {
    if (err instanceof InputFileError) throw new Error(`ota.public_key: ${err.message}`);
    throw new Error(`ota.public_key: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * With a key (`ota.public_key`), requires a valid base64 Ed25519 signature of the canonical manifest.
 * Without one nothing can be checked: the update is accepted only where unsigned updates are
 * (`acceptUnsigned`: a local install from the CLI, or `ota.allow_unsigned_remote_updates` for remote ones).
 */
export function checkSignature(publicKey: KeyObject | null, manifest: SignedManifest, signature: string | undefined, acceptUnsigned: boolean): void {
  if (!publicKey) {
    if (acceptUnsigned) return;
    throw new OtaError(
      'signature_missing',
      'remote model updates must be signed and no ota.public_key is set to check them: set it to the Ed25519 public key your updates are signed with ' +
        '(or set ota.allow_unsigned_remote_updates: true to accept unsigned ones)',
    );
  }
  if (!signature) throw new OtaError('signature_missing', 'update is not signed, and ota.public_key requires a signature');
  const bytes = BASE64.test(signature) ? Buffer.from(signature, 'base64') : Buffer.alloc(0);
  if (bytes.length !== ED25519_SIGNATURE_BYTES) {
    throw new OtaError('signature_invalid', `signature must be ${ED25519_SIGNATURE_BYTES} bytes of base64 (an Ed25519 signature)`);
  }
  if (!verify(null, Buffer.from(canonicalManifest(manifest)), publicKey, bytes)) {
    throw new OtaError('signature_invalid', `signature does not match ${canonicalManifest(manifest)} for ota.public_key`);
  }
}

/** Signs the canonical manifest with an Ed25519 private key (PEM); returns base64. */
export function signManifest(privateKeyPem: string, manifest: SignedManifest): string {
  const key = createPrivateKey(privateKeyPem);
  return sign(null, Buffer.from(canonicalManifest(manifest)), key).toString('base64');
}

/** A new Ed25519 key pair as PEM (PKCS#8 private, SPKI public). */
export function generateSigningKeys(): { privateKey: string; publicKey: string } {
  return generateKeyPairSync('ed25519', {
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
}
