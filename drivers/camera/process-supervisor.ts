import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { Backoff, DEFAULT_BACKOFF, type BackoffTiming } from '../../agent/lib/backoff.js';
import { describeExit, StderrLines, terminateChild } from './child-process.js';

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
  stdout(chunk: Buffer): void;
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
  events: SupervisorEvents;
}

/**
 * Keeps one long-lived capture process running: a watchdog kills it when no frame came for
 * `stallTimeoutMs` (the caller reports frames through `alive()`), and any end that `stop()` did not ask
 * for is followed by a restart after an exponential backoff. The backoff starts over when the process
 * that ended had delivered frames and run for at least a stall period, so a camera that works for hours
 * and then hiccups restarts within a second, while one that keeps dying backs off to a minute. Its
 * stderr goes to the debug log, and the last lines go with the warning when it ends.
 */
export class ProcessSupervisor {
  private child: ChildProcess | null = null;
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

  /** Starts the first process. Throws (without retrying) when the program cannot be found. */
  start(): void {
    this.spawn(this.options.spec());
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
  }

  private spawn(spec: ProcessSpec): void {
    const { logger, name, events } = this.options;
    events.spawned();
    const child = spawn(spec.command, spec.args, { env: this.options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.framesThisRun = 0;
    this.runStartedAt = performance.now();
    this.stallReason = null;

    const stderr = new StderrLines((line) => logger.debug({ camera: name, pid: child.pid, stderr: line }, 'capture process stderr'));
    child.stdout!.on('data', (chunk: Buffer) => {
      if (this.child === child) events.stdout(chunk);
    });
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));

    let ended = false;
    const end = (reason: string) => {
      if (ended) return;
      ended = true;
      stderr.flush();
      this.onEnd(child, reason, stderr.tail);
    };
    child.on('error', (err) => {
      // Only a failed spawn ends the run; a failed kill of a live process is retried by the watchdog.
      if (child.pid === undefined) end(`cannot run ${spec.command}: ${err.message}`);
      else logger.warn({ camera: name, err }, 'capture process error');
    });
    // 'close' comes after the process exited and its pipes drained: every frame and stderr line is in.
    child.on('close', (code, signal) => end(this.stallReason ?? describeExit(code, signal)));

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
      if (this.stopped) return;
      let spec: ProcessSpec;
      try {
        spec = this.options.spec();
      } catch (err) {
        const reason = (err as Error).message;
        const retryIn = this.scheduleRestart();
        this.options.logger.warn({ camera: this.options.name, reason, restart_in_ms: retryIn }, `capture process cannot start: ${reason}`);
        this.options.events.failed(reason);
        return;
      }
      this.options.events.restarted();
      this.spawn(spec);
    }, delay);
    return delay;
  }

  private clearTimers(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.watchdog = null;
    this.restartTimer = null;
  }
}
