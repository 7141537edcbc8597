/**
 * Runs a real mosquitto for benchmarks and integration tests: a generated config in a folder, a free
 * port on 127.0.0.1, stop/resume on the same port (broker outages), persistence on so sessions and
 * queued messages survive a restart. The TLS set-up for tests builds on it in test/helpers/mosquitto.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

const MOSQUITTO = process.env.MOSQUITTO ?? '/usr/sbin/mosquitto';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface MosquittoProcessOptions {
  /** Folder for the config, persistence and anything else (default: a new temporary folder). */
  dir?: string;
  /** Lines added to the listener's config (TLS, ACL, authentication); default `allow_anonymous true`. */
  config?: string[];
}

export class MosquittoProcess {
  private child: ChildProcess | null = null;
  /** Everything mosquitto logged (stderr). */
  log = '';

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async start(options: MosquittoProcessOptions = {}): Promise<MosquittoProcess> {
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'edge-mosquitto-'));
    const port = await freePort();
    const lines = [
      `listener ${port} 127.0.0.1`,
      'persistence true',
      `persistence_location ${dir}/`,
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      // Subscribers in tests and benchmarks must not lose messages to the default queue limit (1000).
      'max_queued_messages 0',
      'max_inflight_messages 100',
      ...(options.config ?? ['allow_anonymous true']),
    ];
    // As root, mosquitto would switch to the `mosquitto` user, which cannot read a private temp folder.
    if (process.getuid?.() === 0) lines.push(`user ${userInfo().username}`);
    writeFileSync(join(dir, 'mosquitto.conf'), lines.join('\n') + '\n');
    const broker = new MosquittoProcess(dir, port);
    await broker.resume();
    return broker;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** Starts the broker (again) on its port. */
  async resume(): Promise<void> {
    if (this.child) return;
    const child = spawn(MOSQUITTO, ['-c', join(this.dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
    this.child = child;
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`mosquitto exited with ${code} while starting:\n${this.log}`))),
    );
    await Promise.race([waitForPort(this.port, 10_000, 'mosquitto'), exited]);
  }

  /** SIGTERM (mosquitto saves its persistence file) and wait for the exit. */
  stop(): Promise<void> {
    return this.signal('SIGTERM');
  }

  /** SIGKILL, as in a crash: nothing is saved, connections drop without a word. */
  kill(): Promise<void> {
    return this.signal('SIGKILL');
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill(signal);
      await exited;
    }
  }

  /** Stops the broker and removes its folder. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`. */
export async function waitForPort(port: number, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
