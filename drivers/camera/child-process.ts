/** Small process helpers the capture drivers share: finding a program, ending it, keeping its stderr. */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { ChildProcess } from 'node:child_process';

/**
 * The absolute path of the first executable `name` on `env.PATH`, or null. Empty and relative PATH
 * entries are ignored: a camera program is never taken from the working directory.
 */
export function findExecutable(name: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here: try the next PATH entry
    }
  }
  return null;
}

/** The first of `names` found by findExecutable, in the order given (the preferred program first). */
export function findFirstExecutable<N extends string>(names: readonly N[], env: NodeJS.ProcessEnv): { name: N; path: string } | null {
  for (const name of names) {
    const path = findExecutable(name, env);
    if (path) return { name, path };
  }
  return null;
}

/**
 * Ends a child: SIGTERM, then SIGKILL if it is still there after `killTimeoutMs`. Resolves once it has
 * exited, when Node has reaped it, so no zombie is left behind.
 */
export function terminateChild(child: ChildProcess, killTimeoutMs: number): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const escalate = setTimeout(() => child.kill('SIGKILL'), killTimeoutMs);
    child.once('exit', () => {
      clearTimeout(escalate);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** How a child ended, in words for a log line. */
export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exited with status ${code}`;
}

const MAX_LINE = 1000;

/**
 * Splits a child's stderr into lines (across chunk boundaries), hands each to `onLine`, and keeps the
 * last few so a crash report can say what the program said before it died.
 */
export class StderrLines {
  private partial = '';
  private readonly recent: string[] = [];

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly keep = 10,
  ) {}

  push(chunk: Buffer): void {
    const lines = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = lines.pop()!.slice(-MAX_LINE);
    for (const line of lines) this.add(line);
  }

  /** The stream ended: a last line without a newline still counts. */
  flush(): void {
    if (this.partial) this.add(this.partial);
    this.partial = '';
  }

  get tail(): string[] {
    return [...this.recent];
  }

  private add(raw: string): void {
    const line = raw.replace(/\r$/, '').slice(0, MAX_LINE);
    if (!line.trim()) return;
    this.recent.push(line);
    if (this.recent.length > this.keep) this.recent.shift();
    this.onLine(line);
  }
}
