/**
 * A real mosquitto for integration tests (scripts/bench/mosquitto.ts runs the process: free port on
 * 127.0.0.1, stop/resume keeping the port, persistence). The TLS variant generates a CA, a server
 * certificate and client certificates (test/helpers/pki.ts), and runs with `require_certificate`,
 * `use_identity_as_username` and an ACL limiting each client to `things/<its CN>/#` (the AWS IoT Core
 * layout).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MosquittoProcess } from '../../scripts/bench/mosquitto.js';
import { TestPki } from './pki.js';

export { freePort } from '../../scripts/bench/mosquitto.js';

export interface MosquittoOptions {
  tls?: boolean;
  /** With TLS: client CNs (user names) that may read every topic, e.g. a test's subscriber. */
  readers?: string[];
  /** With TLS: more ACL file lines (`user <CN>` then `topic readwrite $aws/...`), e.g. for AWS's reserved topics. */
  acl?: string[];
}

export class Mosquitto {
  private constructor(
    private readonly process: MosquittoProcess,
    /** With TLS: the PKI that signed the broker's certificate; its client() certificates are trusted. */
    readonly tls: TestPki | null,
  ) {}

  /** Generates the config (and certificates) and starts the broker. */
  static async start(options: MosquittoOptions = {}): Promise<Mosquitto> {
    const dir = mkdtempSync(join(tmpdir(), 'edge-mosquitto-'));
    if (!options.tls) return new Mosquitto(await MosquittoProcess.start({ dir }), null);
    const tls = TestPki.create(dir);
    const server = tls.server();
    const acl = ['pattern readwrite things/%u/#', ...(options.readers ?? []).flatMap((user) => [`user ${user}`, 'topic read #']), ...(options.acl ?? [])];
    writeFileSync(join(dir, 'acl'), acl.join('\n') + '\n');
    const config = [
      `cafile ${tls.ca}`,
      `certfile ${server.cert}`,
      `keyfile ${server.key}`,
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
