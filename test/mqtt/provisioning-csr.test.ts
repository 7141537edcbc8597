/** The CSR built in DER by hand must be one openssl accepts: signature, subject and key. */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createCsrPem, generateDeviceKeyPem, publicKeyPemOf } from '../../agent/mqtt/provisioning/csr.js';
import { ProvisioningRefusedError, parseRefusal, templateParameters } from '../../agent/mqtt/provisioning/api.js';

const openssl = (args: string[], input: string) => execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'] }).toString('utf8');

describe('the certificate signing request', () => {
  it('verifies with openssl: ECDSA SHA-256 over P-256, CN = the device id, the key of the stored private key', () => {
    const key = generateDeviceKeyPem();
    const csr = createCsrPem(key, 'pi-0042');
    expect(openssl(['req', '-verify', '-noout', '-subject'], csr)).toMatch(/subject=CN\s?=\s?pi-0042/);
    const text = openssl(['req', '-noout', '-text'], csr);
    expect(text).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
    expect(text).toMatch(/NIST CURVE: P-256|ASN1 OID: prime256v1/);
    expect(openssl(['req', '-noout', '-pubkey'], csr)).toBe(publicKeyPemOf(key));
  });

  it('takes a long device id (lengths in the long DER form)', () => {
    const id = `pi-${'x'.repeat(125)}`;
    expect(openssl(['req', '-verify', '-noout', '-subject'], createCsrPem(generateDeviceKeyPem(), id))).toContain(id);
  });
});

describe('the provisioning API answers', () => {
  it('a refusal carries AWS\'s codes, and only 429 and 5xx are worth retrying', () => {
    const refusal = parseRefusal(Buffer.from('{"statusCode":404,"errorCode":"ResourceNotFound","errorMessage":"no such template"}'), 'RegisterThing');
    expect(refusal).toBeInstanceOf(ProvisioningRefusedError);
    expect(refusal.message).toBe('RegisterThing refused by AWS IoT: ResourceNotFound (404): no such template');
    expect(refusal.permanent).toBe(true);
    expect(parseRefusal(Buffer.from('{"statusCode":429,"errorCode":"Throttling","errorMessage":"slow down"}'), 'RegisterThing').permanent).toBe(false);
    expect(parseRefusal(Buffer.from('{"statusCode":500,"errorCode":"InternalFailure","errorMessage":"oops"}'), 'CreateCertificateFromCsr').permanent).toBe(false);
    expect(parseRefusal(Buffer.from('not json'), 'CreateCertificateFromCsr').errorCode).toBe('Unknown');
  });

  it('template parameters from Name=value, with DeviceId by default', () => {
    expect(templateParameters(['SerialNumber=42', 'Location=a=b'], 'pi-1')).toEqual({ DeviceId: 'pi-1', SerialNumber: '42', Location: 'a=b' });
    expect(templateParameters(['DeviceId=other'], 'pi-1')).toEqual({ DeviceId: 'other' });
  });
});
