import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  /** PEM of the test CA: what `ota.ca` points at. */
  caPem: string;
  caPath: string;
  serverKey: string;
  serverCert: string;
  /** A certificate for 127.0.0.1 signed by nobody the client trusts. */
  selfSignedKey: string;
  selfSignedCert: string;
  dir: string;
  remove(): void;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A private CA and a server certificate for 127.0.0.1 signed by it, made with openssl in a temp dir. */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'ota-pki-'));
  openssl(dir, 'req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=edge-agent test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl(dir, 'req', ...EC, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  openssl(dir, 'x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf');
  openssl(dir, 'req', '-x509', ...EC, '-keyout', 'self.key', '-out', 'self.pem', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1');
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  return {
    caPem: read('ca.pem'),
    caPath: join(dir, 'ca.pem'),
    serverKey: read('server.key'),
    serverCert: read('server.pem'),
    selfSignedKey: read('self.key'),
    selfSignedCert: read('self.pem'),
    dir,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
