/**
 * Runs `edge-agent` as users and systemd do: the compiled dist/agent/cli.js (the global setup builds it)
 * in a child process, with its exit status and output collected. `runInProcess` runs one command's
 * definition the same way inside the test, for fakes that cannot cross a process boundary.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { runCommand, type Command, type OptionSpecs } from '../../agent/commands/command.js';
import { packageRoot } from '../../agent/lib/paths.js';

export const CLI_PATH = join(packageRoot(), 'dist', 'agent', 'cli.js');

export interface CliResult {
  /** The exit status; null when a signal ended the process. */
  code: number | null;
  /** Set only when a signal ended the process (so `toEqual({ code, stdout, stderr })` still holds). */
  signal?: NodeJS.Signals;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed (default: nothing). */
  stdin?: string;
  cwd?: string;
  /**
   * The process is killed and `done` rejects after this long (default 120 s: a loaded 2-core machine);
   * Infinity for a daemon the test stops itself.
   */
  timeoutMs?: number;
}

/** A compiled script in a child process; stdout and stderr accumulate as it runs. */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly done: Promise<CliResult>;
  private readonly listeners = new Set<() => void>();

  constructor(script: string, args: string[], options: CliOptions = {}) {
    const { env, stdin = '', cwd, timeoutMs = 120_000 } = options;
    this.child = spawn(process.execPath, [script, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      for (const listener of [...this.listeners]) listener();
    });
    // A command that does not read stdin may exit before the write: that EPIPE is no failure.
    this.child.stdin!.on('error', () => {});
    this.child.stdin!.end(stdin);
    this.done = new Promise((resolve, reject) => {
      const onTimeout = () => {
        this.child.kill('SIGKILL');
        reject(new Error(`${[script, ...args].join(' ')} did not exit within ${timeoutMs} ms\nstdout: ${this.stdout}\nstderr: ${this.stderr}`));
      };
      const timer = Number.isFinite(timeoutMs) ? setTimeout(onTimeout, timeoutMs) : undefined;
      this.child.once('error', reject);
      this.child.once('close', (code, signal) => {
        clearTimeout(timer);
        for (const listener of [...this.listeners]) listener();
        resolve({ code, ...(signal ? { signal } : {}), stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends SIGKILL the moment `text` appears on stderr (no polling delay: the kill lands inside that stage). */
  killWhenStderrShows(text: string): void {
    const check = () => {
      if (!this.stderr.includes(text)) return;
      this.listeners.delete(check);
      this.child.kill('SIGKILL');
    };
    this.listeners.add(check);
    check();
  }

  /** Resolves once `text` appears on stderr (where progress goes); rejects if the process ends first. */
  waitForStderr(text: string, timeoutMs = 60_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const finish = (error?: Error) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        if (error) reject(error);
        else resolve();
      };
      const check = () => {
        if (this.stderr.includes(text)) finish();
        else if (!this.running) finish(new Error(`process ended before printing '${text}':\n${this.stderr}`));
      };
      const timer = setTimeout(() => finish(new Error(`no '${text}' on stderr within ${timeoutMs} ms:\n${this.stderr}`)), timeoutMs);
      this.listeners.add(check);
      check();
    });
  }
}

/** `edge-agent ...args`, started; see CliProcess. */
export function startEdgeAgent(args: string[], options?: CliOptions): CliProcess {
  return new CliProcess(CLI_PATH, args, options);
}

/** `edge-agent ...args` to the end. */
export function edgeAgent(args: string[], options?: CliOptions): Promise<CliResult> {
  return startEdgeAgent(args, options).done;
}

/** Another compiled script of the package (`scripts/sign-model.ts` is `dist/scripts/sign-model.js`). */
export function runScript(distPath: string, args: string[], options?: CliOptions): Promise<CliResult> {
  return new CliProcess(join(packageRoot(), 'dist', distPath), args, options).done;
}

/** Text written to a stream, collected. */
function collector(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

/** `edge-agent <name> ...argv` with the given definition (fake hardware inside it), in this process. */
export async function runInProcess<O extends OptionSpecs>(name: string, command: Command<O>, argv: string[], stdin = ''): Promise<CliResult> {
  const stdout = collector();
  const stderr = collector();
  const input = new PassThrough();
  input.end(stdin);
  const code = await runCommand(name, command, argv, { stdin: input, stdout: stdout.stream, stderr: stderr.stream });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}
