import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OtaError } from '../../agent/ota/errors.js';
import {
  canonicalManifest,
  checkSha256,
  checkSignature,
  generateSigningKeys,
  loadPublicKey,
  normalizeSha256,
  signManifest,
} from '../../agent/ota/verify.js';

const sha = 'AB'.repeat(32);
const manifest = { role: 'intruder', version: '2.0.0', sha256: sha };
const keys = generateSigningKeys();
const publicKey = loadPublicKey(keys.publicKey);

function codeOf(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OtaError);
    return (err as OtaError).code;
  }
  throw new Error('expected a failure');
}

describe('checksums', () => {
  it('normalizes hex and names a bad value', () => {
    expect(normalizeSha256(` ${sha} `)).toBe(sha.toLowerCase());
    expect(() => normalizeSha256('abc')).toThrow('sha256 must be 64 hexadecimal characters, got "abc"');
    expect(codeOf(() => normalizeSha256(undefined))).toBe('invalid_request');
  });

  it('compares case-insensitively and reports both hashes on a mismatch', () => {
    expect(() => checkSha256(sha, sha.toLowerCase())).not.toThrow();
    expect(() => checkSha256(sha.toLowerCase(), 'cd'.repeat(32))).toThrow(`sha256 mismatch: expected ${sha.toLowerCase()}, the downloaded file has ${'cd'.repeat(32)}`);
  });
});

describe('signatures', () => {
  it('signs the canonical manifest: sorted keys, lowercase hash, no spaces', () => {
    expect(canonicalManifest({ version: '2.0.0', sha256: sha, role: 'intruder' })).toBe(
      `{"role":"intruder","sha256":"${sha.toLowerCase()}","version":"2.0.0"}`,
    );
  });

  it('accepts a valid signature, and without a key anything only where unsigned updates are accepted', () => {
    const signature = signManifest(keys.privateKey, manifest);
    expect(() => checkSignature(publicKey, manifest, signature, false)).not.toThrow();
    expect(() => checkSignature(null, manifest, undefined, true)).not.toThrow();
  });

  it('refuses every update without a key where unsigned updates are not accepted (remote ones, by default), naming both settings', () => {
    const signature = signManifest(keys.privateKey, manifest);
    for (const given of [undefined, signature]) {
      expect(codeOf(() => checkSignature(null, manifest, given, false))).toBe('signature_missing');
      expect(() => checkSignature(null, manifest, given, false)).toThrow(/no ota\.public_key is set .* ota\.allow_unsigned_remote_updates: true/);
    }
  });

  it('requires a signature when a key is set, even where unsigned updates are accepted', () => {
    expect(codeOf(() => checkSignature(publicKey, manifest, undefined, true))).toBe('signature_missing');
  });

  it('rejects an unsigned update when a key is set', () => {
    expect(codeOf(() => checkSignature(publicKey, manifest, undefined, false))).toBe('signature_missing');
  });

  it('rejects a signature of another version, another role, or by another key', () => {
    const signature = signManifest(keys.privateKey, manifest);
    expect(codeOf(() => checkSignature(publicKey, { ...manifest, version: '2.0.1' }, signature, false))).toBe('signature_invalid');
    expect(codeOf(() => checkSignature(publicKey, { ...manifest, role: 'forecast' }, signature, false))).toBe('signature_invalid');
    const other = signManifest(generateSigningKeys().privateKey, manifest);
    expect(() => checkSignature(publicKey, manifest, other, false)).toThrow(/signature does not match \{"role":"intruder"/);
  });

  it('rejects a signature that is not 64 bytes of base64', () => {
    expect(() => checkSignature(publicKey, manifest, 'not base64!', false)).toThrow('signature must be 64 bytes of base64 (an Ed25519 signature)');
    expect(codeOf(() => checkSignature(publicKey, manifest, Buffer.alloc(32).toString('base64'), false))).toBe('signature_invalid');
  });

  it('loads the public key from inline PEM or a file, and refuses other key types', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ota-key-'));
    try {
      writeFileSync(join(dir, 'ota.pub'), keys.publicKey);
      expect(loadPublicKey(join(dir, 'ota.pub')).asymmetricKeyType).toBe('ed25519');
      expect(() => loadPublicKey(join(dir, 'missing.pub'))).toThrow(/ota.public_key: cannot read .*missing\.pub: ENOENT/);
      const rsa = generateKeyPairSync('rsa', { modulusLength: 1024, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
      expect(() => loadPublicKey(rsa.publicKey)).toThrow('ota.public_key: expected an Ed25519 key, got rsa');
      expect(() => loadPublicKey('-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----')).toThrow(/ota.public_key: not a PEM public key/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
