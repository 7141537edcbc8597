/**
 * Keeps one pipeline running for months: when its loop throws (a camera that vanished, a corrupt frame
 * that crashed a decoder, a bug), the error is logged, counted, shown in health and on the event bus,
 * and the loop starts again after an exponential backoff. A crash never reaches the other pipeline or
 * the process. A loop that ran for a while before failing starts again from the shortest delay.
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

export class Supervisor {
  private controller: AbortController | null = null;
  private running: Promise<void> | null = null;
  private restarts = 0;
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
    if (this.state === 'backoff') return { state: 'down', detail: `restarting after a crash: ${this.lastError}`, ...extra };
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
        if (performance.now() - startedAt >= this.backoff.resetAfterMs) delays.reset();
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
