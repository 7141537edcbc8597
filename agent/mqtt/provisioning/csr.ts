/**
 * The device's key pair and its certificate signing request. Node has key generation and signing but
 * no CSR API, so the PKCS#10 request (RFC 2986) is assembled here in DER: subject CN = the device id,
 * the EC P-256 public key, no attributes, signed with ECDSA SHA-256. AWS IoT Core takes the subject
 * and key from it and issues the certificate (CreateCertificateFromCsr).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

/** A new EC P-256 private key, as the PKCS#8 PEM that is stored and given to TLS. */
export function generateDeviceKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** A PEM CERTIFICATE REQUEST for `commonName`, signed with `privateKeyPem`. */
export function createCsrPem(privateKeyPem: string, commonName: string): string {
  const privateKey = createPrivateKey(privateKeyPem);
  const info = certificationRequestInfo(commonName, createPublicKey(privateKey));
  const signature = sign('sha256', info, { key: privateKey, dsaEncoding: 'der' });
  const der = sequence(info, sequence(oid(ECDSA_WITH_SHA256)), bitString(signature));
  const base64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${base64}-----END CERTIFICATE REQUEST-----\n`;
}

/** The public key of a PEM private key, as SPKI PEM (to compare a CSR's or certificate's key with the stored one). */
export function publicKeyPemOf(privateKeyPem: string): string {
  return createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
}

const ECDSA_WITH_SHA256 = [1, 2, 840, 10045, 4, 3, 2];
const COMMON_NAME = [2, 5, 4, 3];

function certificationRequestInfo(commonName: string, publicKey: KeyObject): Buffer {
  const version = tlv(0x02, Buffer.from([0]));
  const subject = sequence(set(sequence(oid(COMMON_NAME), tlv(0x0c, Buffer.from(commonName, 'utf8')))));
  const subjectPublicKeyInfo = publicKey.export({ type: 'spki', format: 'der' });
  // attributes [0] IMPLICIT SET OF Attribute: present and empty.
  const attributes = tlv(0xa0, Buffer.alloc(0));
  return sequence(version, subject, subjectPublicKeyInfo, attributes);
}

/** A DER type-length-value: short length form below 128 bytes, long form above. */
function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(content.length), content]);
}

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const sequence = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const bitString = (bytes: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), bytes]));

/** An OBJECT IDENTIFIER: the first two arcs in one byte, the others in base 128. */
function oid(arcs: number[]): Buffer {
  const [first = 0, second = 0, ...rest] = arcs;
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const groups: number[] = [];
    for (let value = arc; ; value = Math.floor(value / 128)) {
      groups.unshift(value % 128);
      if (value < 128) break;
    }
    bytes.push(...groups.map((group, i) => (i < groups.length - 1 ? group | 0x80 : group)));
  }
  return tlv(0x06, Buffer.from(bytes));
}
