/**
 * A real mosquitto for integration tests (scripts/bench/mosquitto.ts runs the process: free port on
 * 127.0.0.1, stop/resume keeping the port, persistence). The TLS variant generates a CA, a server
 * certificate and client certificates with openssl, and runs with `require_certificate`,
 * `use_identity_as_username` and an ACL limiting each client to `things/<its CN>/#` (the AWS IoT Core
 * layout).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MosquittoProcess } from '../../scripts/bench/mosquitto.js';

export { freePort } from '../../scripts/bench/mosquitto.js';

export interface ClientCert {
  cert: string;
  key: string;
}

export interface TlsFiles {
  /** The CA that signed the server and the trusted client certificates. */
  ca: string;
  /** A client certificate (CN = `cn`) signed by the broker's CA. */
  client(cn: string): ClientCert;
  /** A CA the broker does not trust (it signed neither the broker's certificate nor trusted clients'). */
  otherCa: string;
  /** A client certificate (CN = `cn`) signed by `otherCa`. */
  untrustedClient(cn: string): ClientCert;
}

export interface MosquittoOptions {
  tls?: boolean;
  /** With TLS: client CNs (user names) that may read every topic, e.g. a test's subscriber. */
  readers?: string[];
}

function openssl(cwd: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

/** An EC P-256 key and a certificate signed by `ca` (or self-signed when `ca` is null). */
function makeCert(dir: string, name: string, cn: string, ca: string | null, extensions = ''): ClientCert {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  openssl(dir, 'ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key);
  if (ca === null) {
    openssl(dir, 'req', '-x509', '-new', '-key', key, '-out', cert, '-days', '2', '-subj', `/CN=${cn}`);
    return { cert, key };
  }
  const csr = join(dir, `${name}.csr`);
  openssl(dir, 'req', '-new', '-key', key, '-out', csr, '-subj', `/CN=${cn}`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, extensions);
  openssl(dir, 'x509', '-req', '-in', csr, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext);
  return { cert, key };
}

function makeTlsFiles(dir: string): TlsFiles {
  makeCert(dir, 'ca', 'edge-agent test CA', null);
  makeCert(dir, 'other-ca', 'some other CA', null);
  makeCert(dir, 'server', '127.0.0.1', join(dir, 'ca'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  const made = new Map<string, ClientCert>();
  const issue = (ca: 'ca' | 'other-ca', cn: string): ClientCert => {
    const name = `${ca}-client-${cn}`;
    if (!made.has(name)) made.set(name, makeCert(dir, name, cn, join(dir, ca), 'extendedKeyUsage=clientAuth\n'));
    return made.get(name)!;
  };
  return { ca: join(dir, 'ca.crt'), otherCa: join(dir, 'other-ca.crt'), client: (cn) => issue('ca', cn), untrustedClient: (cn) => issue('other-ca', cn) };
}

export class Mosquitto {
  private constructor(
    private readonly process: MosquittoProcess,
    readonly tls: TlsFiles | null,
  ) {}

  /** Generates the config (and certificates) and starts the broker. */
  static async start(options: MosquittoOptions = {}): Promise<Mosquitto> {
    const dir = mkdtempSync(join(tmpdir(), 'edge-mosquitto-'));
    if (!options.tls) return new Mosquitto(await MosquittoProcess.start({ dir }), null);
    const tls = makeTlsFiles(dir);
    const acl = ['pattern readwrite things/%u/#', ...(options.readers ?? []).flatMap((user) => [`user ${user}`, 'topic read #'])];
    writeFileSync(join(dir, 'acl'), acl.join('\n') + '\n');
    const config = [
      `cafile ${tls.ca}`,
      `certfile ${join(dir, 'server.crt')}`,
      `keyfile ${join(dir, 'server.key')}`,
      'require_certificate true',
      'use_identity_as_username true',
      'allow_anonymous false',
      `acl_file ${join(dir, 'acl')}`,
    ];
    return new Mosquitto(await MosquittoProcess.start({ dir, config }), tls);
  }

  get url(): string {
    return `${this.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${this.port}`;
  }

  get port(): number {
    return this.process.port;
  }

  get dir(): string {
    return this.process.dir;
  }

  /** Everything mosquitto logged, for assertions and failure messages. */
  get log(): string {
    return this.process.log;
  }

  get running(): boolean {
    return this.process.running;
  }

  /** Starts the broker again on the same port (after stop()). */
  resume(): Promise<void> {
    return this.process.resume();
  }

  /** SIGTERM (mosquitto saves its persistence file) and wait for the exit. */
  stop(): Promise<void> {
    return this.process.stop();
  }

  /** Stops the broker and removes its folder. */
  dispose(): Promise<void> {
    return this.process.dispose();
  }
}
