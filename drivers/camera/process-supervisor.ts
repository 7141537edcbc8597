import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { Backoff, DEFAULT_BACKOFF, type BackoffTiming } from '../../agent/lib/backoff.js';
import { describeExit, StderrLines, terminateChild } from './child-process.js';
import { openStdoutSocket, type ReadSink } from './stdout-socket.js';

export interface SupervisorTiming {
  /** Restart the process when no frame came for this long (also the limit for the first frame). */
  stallTimeoutMs: number;
  backoff: BackoffTiming;
  /** After SIGTERM, wait this long before SIGKILL. */
  killTimeoutMs: number;
}

export const DEFAULT_KILL_TIMEOUT_MS = 3000;

export function supervisorTiming(stallTimeoutMs: number, overrides: Partial<SupervisorTiming> = {}): SupervisorTiming {
  return { stallTimeoutMs, backoff: DEFAULT_BACKOFF, killTimeoutMs: DEFAULT_KILL_TIMEOUT_MS, ...overrides };
}

/** A program and its arguments, run without a shell. */
export interface ProcessSpec {
  command: string;
  args: string[];
}

export interface SupervisorEvents {
  /** A new process is starting: forget any partial output of the previous one. */
  spawned(): void;
  /** A process ended or was killed unexpectedly; a restart is scheduled. */
  failed(reason: string): void;
  /** A replacement process was started after a failure. */
  restarted(): void;
}

export interface SupervisorOptions {
  /** For log lines: which camera this is. */
  name: string;
  /** Called before every start, so a restart finds the program again; may throw. */
  spec: () => ProcessSpec;
  env: NodeJS.ProcessEnv;
  timing: SupervisorTiming;
  logger: Logger;
  /** Where the process's stdout is read into (see stdout-socket.ts). */
  stdout: ReadSink;
  events: SupervisorEvents;
}

/**
 * Keeps one long-lived capture process running: a watchdog kills it when no frame came for
 * `stallTimeoutMs` (the caller reports frames through `alive()`), and any end that `stop()` did not ask
 * for is followed by a restart after an exponential backoff. The backoff starts over when the process
 * that ended had delivered frames and run for at least a stall period, so a camera that works for hours
 * and then hiccups restarts within a second, while one that keeps dying backs off to a minute. Its
 * stderr goes to the debug log, and the last lines go with the warning when it ends. A run ends when
 * the process has exited and all it wrote has been read.
 */
export class ProcessSupervisor {
  private child: ChildProcess | null = null;
  private output: Socket | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private readonly backoff: Backoff;
  private stopped = false;
  private framesThisRun = 0;
  private runStartedAt = 0;
  private stallReason: string | null = null;

  constructor(private readonly options: SupervisorOptions) {
    this.backoff = new Backoff(options.timing.backoff);
  }

  /** Starts the first process. Rejects (without retrying) when the program cannot be found. */
  async start(): Promise<void> {
    await this.spawn(this.options.spec());
  }

  /** A frame arrived: the process is alive. */
  alive(): void {
    this.framesThisRun++;
    this.watchdog?.refresh();
  }

  /** Stops restarting and ends the process (SIGTERM, then SIGKILL); resolves when it has exited. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    if (this.child) await terminateChild(this.child, this.options.timing.killTimeoutMs);
    this.output?.destroy();
  }

  private async spawn(spec: ProcessSpec): Promise<void> {
    const { logger, name, events } = this.options;
    events.spawned();
    const { childEnd, reader } = await openStdoutSocket(this.options.stdout);
    if (this.stopped) {
      childEnd.destroy();
      reader.destroy();
      return;
    }
    const child = spawn(spec.command, spec.args, { env: this.options.env, stdio: ['ignore', childEnd, 'pipe'] });
    // The child has its own copy now; ours would keep the socket open after the child exits.
    childEnd.destroy();
    this.child = child;
    this.output = reader;
    this.framesThisRun = 0;
    this.runStartedAt = performance.now();
    this.stallReason = null;

    const stderr = new StderrLines((line) => logger.debug({ camera: name, pid: child.pid, stderr: line }, 'capture process stderr'));
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    reader.on('error', (err) => logger.warn({ camera: name, err }, 'capture output error'));

    // The run ends once the process is gone ('close': exited, stderr drained) and its stdout socket has
    // closed (every frame it wrote has been read), in whichever order they come.
    let exitReason: string | null = null;
    let outputClosed = false;
    let ended = false;
    const endWhenDone = () => {
      if (ended || exitReason === null || !outputClosed) return;
      ended = true;
      stderr.flush();
      this.onEnd(child, exitReason, stderr.tail);
    };
    reader.on('close', () => {
      outputClosed = true;
      endWhenDone();
    });
    const exited = (reason: string) => {
      exitReason ??= reason;
      endWhenDone();
    };
    child.on('error', (err) => {
      // Only a failed spawn ends the run; a failed kill of a live process is retried by the watchdog.
      if (child.pid === undefined) exited(`cannot run ${spec.command}: ${err.message}`);
      else logger.warn({ camera: name, err }, 'capture process error');
    });
    child.on('close', (code, signal) => exited(this.stallReason ?? describeExit(code, signal)));

    this.watchdog = setTimeout(() => this.onStall(child), this.options.timing.stallTimeoutMs);
    logger.info({ camera: name, pid: child.pid, command: spec.command, args: spec.args }, 'capture process started');
  }

  private onStall(child: ChildProcess): void {
    this.watchdog = null;
    this.stallReason = `no frame for ${this.options.timing.stallTimeoutMs / 1000} s`;
    void terminateChild(child, this.options.timing.killTimeoutMs);
  }

  private onEnd(child: ChildProcess, reason: string, stderrTail: string[]): void {
    if (this.child !== child) return;
    this.child = null;
    this.output = null;
    this.clearTimers();
    if (this.stopped) return;
    const { timing, logger, name, events } = this.options;
    const ranMs = performance.now() - this.runStartedAt;
    if (this.framesThisRun > 0 && ranMs >= timing.stallTimeoutMs) this.backoff.reset();
    const delay = this.scheduleRestart();
    logger.warn({ camera: name, pid: child.pid, reason, stderr: stderrTail, restart_in_ms: delay }, `capture process ended: ${reason}`);
    events.failed(reason);
  }

  /** Starts a replacement after the next backoff delay; returns the delay. */
  private scheduleRestart(): number {
    const delay = this.backoff.nextDelayMs();
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.stopped) void this.restart();
    }, delay);
    return delay;
  }

  /** Starts a replacement; when it cannot start (the program is gone), tries again after a backoff. */
  private async restart(): Promise<void> {
    try {
      const spec = this.options.spec();
      this.options.events.restarted();
      await this.spawn(spec);
    } catch (err) {
      if (this.stopped) return;
      const reason = (err as Error).message;
      const retryIn = this.scheduleRestart();
      this.options.logger.warn({ camera: this.options.name, reason, restart_in_ms: retryIn }, `capture process cannot start: ${reason}`);
      this.options.events.failed(reason);
    }
  }

  private clearTimers(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.watchdog = null;
    this.restartTimer = null;
  }
}
