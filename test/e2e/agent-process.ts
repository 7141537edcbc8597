/**
 * Runs the compiled daemon (`node dist/agent/cli.js run --config FILE`) as a child process, the way
 * systemd does, and reads its pino JSON log lines from stdout.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { stringify } from 'yaml';
import { packageRoot } from '../../agent/lib/paths.js';
import { startEdgeAgent } from '../helpers/cli.js';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export class AgentProcess {
  readonly logs: LogLine[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private buffer = '';
  private waiters = new Set<() => void>();

  private constructor(readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => this.onStdout(chunk));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => this.wakeAll());
  }

  static start(args: string[], env: NodeJS.ProcessEnv = {}): AgentProcess {
    return new AgentProcess(startEdgeAgent(args, { cwd: packageRoot(), env, timeoutMs: Infinity }).child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first log line matching `match`; rejects on timeout or exit, with the stderr. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs: number, what: string): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.logs.find(match);
        if (found) return done(() => resolve(found));
        if (!this.running) return done(() => reject(new Error(`the agent exited while waiting for ${what}: ${this.stderr || this.lastLogs()}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${this.lastLogs()}`))), timeoutMs);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }

  waitReady(timeoutMs = 20_000): Promise<LogLine> {
    return this.waitForLog((l) => typeof l.ready_ms === 'number', timeoutMs, 'the ready log line');
  }

  /** Sends `signal` and waits for the exit; kills with SIGKILL if it takes longer than `timeoutMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    const started = performance.now();
    if (this.running) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const result = await this.exited;
    clearTimeout(timer);
    return { ...result, ms: performance.now() - started };
  }

  errors(): LogLine[] {
    return this.logs.filter((l) => l.level >= 50);
  }

  private lastLogs(): string {
    return this.logs
      .slice(-5)
      .map((l) => JSON.stringify(l))
      .join('\n');
  }

  private onStdout(chunk: string): void {
    this.buffer += chunk;
    const lines = this.buffer.split('\n');
    this.buffer = lines.pop()!;
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        this.logs.push({ level: 60, msg: `not JSON on stdout: ${line}` });
      }
    }
    this.wakeAll();
  }

  private wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }
}

/** A temporary folder with a config file, a data dir, and (optionally) a camera folder of linked fixture images. */
export class AgentSandbox {
  readonly dir = mkdtempSync(join(tmpdir(), 'edge-agent-e2e-'));
  readonly dataDir = join(this.dir, 'data');
  readonly configPath = join(this.dir, 'config.yaml');

  get dbPath(): string {
    return join(this.dataDir, 'edge-agent.db');
  }

  /** A folder of symbolic links to the given images (fixtures are never copied); `name` tells several apart. */
  cameraDir(images: string[], name = 'camera'): string {
    const dir = join(this.dir, name);
    mkdirSync(dir, { recursive: true });
    images.forEach((image, i) => symlinkSync(image, join(dir, `${String(i).padStart(3, '0')}-${basename(image)}`)));
    return dir;
  }

  writeConfig(config: object): string {
    writeFileSync(this.configPath, stringify({ data_dir: this.dataDir, ...config }));
    return this.configPath;
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
