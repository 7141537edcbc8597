/**
 * The test PKI: a private CA made with openssl in a folder, issuing EC P-256 certificates for
 * 127.0.0.1 (servers: mosquitto, the model server) and for named clients (MQTT over mutual TLS, the
 * AWS IoT Core layout), plus the untrusted kinds a test needs to see refused: a second CA nobody
 * trusts, clients it signed, and a self-signed server.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate and its private key, as paths of PEM files (what mosquitto and MQTT.js options take). */
export interface CertFiles {
  cert: string;
  key: string;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const SERVER_EXTENSIONS = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n';
const CLIENT_EXTENSIONS = 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n';

export class TestPki {
  /** Certificates made so far, by file name: each is made once, on first use. */
  private readonly made = new Map<string, CertFiles>();

  private constructor(readonly dir: string) {}

  /** Makes the CA in `dir` (default: a new temporary folder, which remove() deletes). */
  static create(dir = mkdtempSync(join(tmpdir(), 'edge-pki-'))): TestPki {
    const pki = new TestPki(dir);
    pki.trustedCa();
    return pki;
  }

  /** Path of the CA certificate: what `mqtt.ca`, `ota.ca` and mosquitto's `cafile` point at. */
  get ca(): string {
    return this.trustedCa().cert;
  }

  get caPem(): string {
    return readFileSync(this.ca, 'utf8');
  }

  /** Path of a second CA's certificate: it signed none of this PKI's servers or trusted clients. */
  get otherCa(): string {
    return this.untrustedCa().cert;
  }

  /** A server certificate for 127.0.0.1 and localhost, signed by the CA. */
  server(): CertFiles {
    return this.issue('server', '127.0.0.1', this.trustedCa(), SERVER_EXTENSIONS);
  }

  /** A client certificate (CN = `cn`, the broker's user name), signed by the CA. */
  client(cn: string): CertFiles {
    return this.issue(`client-${cn}`, cn, this.trustedCa(), CLIENT_EXTENSIONS);
  }

  /** A client certificate (CN = `cn`) signed by the other CA, which the broker does not trust. */
  untrustedClient(cn: string): CertFiles {
    return this.issue(`other-ca-client-${cn}`, cn, this.untrustedCa(), CLIENT_EXTENSIONS);
  }

  /** A server certificate for 127.0.0.1 signed by itself: nobody trusts it. */
  selfSignedServer(): CertFiles {
    return this.once('self-signed-server', (files) =>
      this.openssl('req', '-x509', ...EC_KEY, '-keyout', files.key, '-out', files.cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'),
    );
  }

  /**
   * Signs a PEM certificate request with the CA as a client certificate (what AWS IoT's
   * CreateCertificateFromCsr does), keeping the CSR's key; `subjectCn` replaces the CSR's subject
   * (the broker's user name, as AWS's policy variables name the thing). Returns the certificate's PEM.
   */
  signCsr(csrPem: string, subjectCn?: string): string {
    const name = `signed-${randomUUID()}`;
    const csr = join(this.dir, `${name}.csr`);
    const cert = join(this.dir, `${name}.crt`);
    const ext = join(this.dir, `${name}.ext`);
    writeFileSync(csr, csrPem);
    writeFileSync(ext, CLIENT_EXTENSIONS);
    const ca = this.trustedCa();
    const subject = subjectCn === undefined ? [] : ['-subj', `/CN=${subjectCn}`];
    this.openssl('x509', '-req', '-in', csr, ...subject, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext);
    return readFileSync(cert, 'utf8');
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private trustedCa(): CertFiles {
    return this.makeCa('ca', 'edge-agent test CA');
  }

  private untrustedCa(): CertFiles {
    return this.makeCa('other-ca', 'some other CA');
  }

  private makeCa(name: string, cn: string): CertFiles {
    return this.once(name, (files) =>
      this.openssl('req', '-x509', ...EC_KEY, '-keyout', files.key, '-out', files.cert, '-days', '2', '-subj', `/CN=${cn}`,
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'),
    );
  }

  private issue(name: string, cn: string, signer: CertFiles, extensions: string): CertFiles {
    return this.once(name, (files) => {
      const csr = join(this.dir, `${name}.csr`);
      const ext = join(this.dir, `${name}.ext`);
      this.openssl('req', ...EC_KEY, '-keyout', files.key, '-out', csr, '-subj', `/CN=${cn}`);
      writeFileSync(ext, extensions);
      this.openssl('x509', '-req', '-in', csr, '-CA', signer.cert, '-CAkey', signer.key, '-CAcreateserial', '-out', files.cert, '-days', '2', '-extfile', ext);
    });
  }

  /** The files `<name>.crt` and `<name>.key`, made by `make` the first time they are asked for. */
  private once(name: string, make: (files: CertFiles) => void): CertFiles {
    let files = this.made.get(name);
    if (!files) {
      files = { cert: join(this.dir, `${name}.crt`), key: join(this.dir, `${name}.key`) };
      make(files);
      this.made.set(name, files);
    }
    return files;
  }

  private openssl(...args: string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: 'pipe' });
  }
}
