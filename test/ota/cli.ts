import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../agent/lib/paths.js';

export const cliPath = join(packageRoot(), 'dist', 'agent', 'cli.js');
export const signModelPath = join(packageRoot(), 'dist', 'scripts', 'sign-model.js');

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A compiled script run as a child process (the way users and systemd run it), with its output collected. */
export class NodeRun {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly done: Promise<RunResult>;

  constructor(script: string, args: string[]) {
    this.child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.done = new Promise((resolve) =>
      this.child.once('close', (code, signal) => resolve({ code, signal, stdout: this.stdout, stderr: this.stderr })),
    );
  }

  /** Sends SIGKILL the moment `text` appears on stderr (no polling delay: the kill lands inside that stage). */
  killWhenStderrShows(text: string): void {
    const onData = () => {
      if (!this.stderr.includes(text)) return;
      this.child.kill('SIGKILL');
      this.child.stderr!.off('data', onData);
    };
    this.child.stderr!.on('data', onData);
  }

  /** Resolves once `text` appears on stderr (where progress goes); rejects if the process ends first. */
  async waitForStderr(text: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.stderr.includes(text)) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`process ended before printing '${text}':\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`no '${text}' on stderr within ${timeoutMs} ms:\n${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

export function edgeAgent(...args: string[]): Promise<RunResult> {
  return new NodeRun(cliPath, args).done;
}

export function signModel(...args: string[]): Promise<RunResult> {
  return new NodeRun(signModelPath, args).done;
}
