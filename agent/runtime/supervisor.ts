/**
 * Keeps one pipeline running for months: when its loop throws (a camera that vanished, a corrupt frame
 * that crashed a decoder, a bug), the error is logged, counted, shown in health and on the event bus,
 * and the loop starts again after an exponential backoff. A crash never reaches the other pipeline or
 * the process. A loop that ran for a while before failing starts again from the shortest delay.
 *
 * Health: one crash is `degraded` (the loop is waiting to start again, and will); CRASH_LOOP crashes in a
 * row without a run of `resetAfterMs` between them is `down`, a crash loop: the agent cannot do that
 * pipeline's job, and /health answers 503.
 */
import { Backoff, DEFAULT_BACKOFF, type BackoffTiming } from '../lib/backoff.js';
import { abortableSleep } from '../lib/timing.js';
import type { ComponentHealth } from './service.js';
import type { EventBus } from './event-bus.js';
import type { Logger } from '../lib/log.js';

/** One pipeline's loop: runs until `signal` aborts (then it must return promptly) or throws. */
export type PipelineLoop = (signal: AbortSignal) => Promise<void>;

export interface BackoffPolicy extends BackoffTiming {
  /** A run that lasted this long resets the delay to `baseMs`. */
  resetAfterMs: number;
}

const DEFAULT_POLICY: BackoffPolicy = { ...DEFAULT_BACKOFF, resetAfterMs: 60_000 };

/** Crashes in a row (no long enough run between them) that make a crash loop. */
export const CRASH_LOOP = 3;

export class Supervisor {
  private controller: AbortController | null = null;
  private running: Promise<void> | null = null;
  private restarts = 0;
  /** Crashes since the last run that lasted `resetAfterMs`. */
  private crashesInARow = 0;
  private lastError: string | null = null;
  private state: 'stopped' | 'running' | 'backoff' = 'stopped';

  constructor(
    readonly pipeline: string,
    private readonly loop: PipelineLoop,
    private readonly deps: { bus: EventBus; logger: Logger },
    private readonly backoff: BackoffPolicy = DEFAULT_POLICY,
  ) {}

  /** Starts the loop in the background; returns at once. */
  start(): void {
    if (this.running) return;
    const controller = new AbortController();
    this.controller = controller;
    this.running = this.supervise(controller.signal);
  }

  /** Aborts the loop and waits for it to return (the work in flight finishes). */
  async stop(): Promise<void> {
    this.controller?.abort();
    await this.running;
    this.running = null;
    this.controller = null;
    this.state = 'stopped';
  }

  health(): ComponentHealth {
    const extra = { restarts: this.restarts, last_error: this.lastError };
    if (this.state === 'backoff') {
      if (this.crashesInARow >= CRASH_LOOP) return { state: 'down', detail: `crash loop (${this.crashesInARow} crashes in a row): ${this.lastError}`, ...extra };
      return { state: 'degraded', detail: `restarting after a crash: ${this.lastError}`, ...extra };
    }
    if (this.state === 'stopped') return { state: 'disabled', detail: 'not running', ...extra };
    return { state: 'ok', ...extra };
  }

  private async supervise(signal: AbortSignal): Promise<void> {
    const delays = new Backoff(this.backoff);
    while (!signal.aborted) {
      const startedAt = performance.now();
      this.state = 'running';
      try {
        await this.loop(signal);
        if (signal.aborted) break;
        throw new Error('pipeline loop returned while it should be running');
      } catch (err) {
        if (signal.aborted) break;
        const message = err instanceof Error ? err.message : String(err);
        this.restarts++;
        this.lastError = message;
        if (performance.now() - startedAt >= this.backoff.resetAfterMs) {
          delays.reset();
          this.crashesInARow = 0;
        }
        this.crashesInARow++;
        const delay = delays.nextDelayMs();
        this.deps.logger.error({ err, pipeline: this.pipeline, retry_in_ms: delay }, 'pipeline crashed; restarting');
        this.deps.bus.emit('pipeline.restart', { pipeline: this.pipeline, error: message });
        this.state = 'backoff';
        await abortableSleep(delay, signal);
      }
    }
    this.state = 'stopped';
  }
}
