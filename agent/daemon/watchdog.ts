/**
 * Feeds systemd's watchdog only while the agent does its job, so systemd restarts an agent that is alive
 * but wedged (a pipeline stuck in a native call, a camera that stopped and is not being restarted, an
 * event loop blocked by a runaway computation). Every tick (half of WatchdogSec) it checks that
 *
 * - the event loop answered in time: the tick itself came at most `maxLagMs` late;
 * - each pipeline advanced within its bound: vision took a frame or restarted its camera (or itself),
 *   telemetry made a reading or restarted.
 *
 * Then it sends WATCHDOG=1; otherwise it withholds it, logs why, and puts the reason in systemd's status
 * line (`systemctl status edge-agent`). A wedged pipeline also shows as `down` in /health.
 */
import type { Logger } from '../lib/log.js';
import type { ComponentHealth, Service } from '../runtime/service.js';

/** A pipeline the watchdog watches: `progress()` grows whenever it advances (frames, readings, restarts). */
export interface WatchedPipeline {
  name: string;
  progress(): number;
  /** How long it may go without advancing. */
  stallMs: number;
}

export interface WatchdogNotifier {
  /** The keepalive period (half of WatchdogSec), or null when systemd watches nothing. */
  watchdogIntervalMs(): number | null;
  watchdog(): Promise<void>;
  status(text: string): Promise<void>;
}

export interface WatchdogDeps {
  notify: WatchdogNotifier;
  pipelines: () => WatchedPipeline[];
  maxLagMs: number;
  logger: Logger;
  /** Monotonic ms (default performance.now): wall-clock steps must not look like a stall. */
  now?: () => number;
}

/** Without a systemd watchdog the checks still run (for /health) at this period. */
const UNWATCHED_TICK_MS = 5_000;

interface Seen {
  progress: number;
  at: number;
}

export class Watchdog implements Service {
  readonly name = 'watchdog';
  private timer: NodeJS.Timeout | null = null;
  private intervalMs = UNWATCHED_TICK_MS;
  private dueAt = 0;
  private readonly seen = new Map<string, Seen>();
  private fed = 0;
  private withheld = 0;
  private lastLagMs = 0;
  /** Why the last tick withheld the ping; null when it fed it. */
  private problem: string | null = null;
  /** What was wrong at the last tick ("vision", "lag"): a new log line only when that changes. */
  private problemKey = '';

  constructor(private readonly deps: WatchdogDeps) {}

  private get now(): number {
    return (this.deps.now ?? (() => performance.now()))();
  }

  start(): Promise<void> {
    const systemd = this.deps.notify.watchdogIntervalMs();
    this.intervalMs = systemd ?? UNWATCHED_TICK_MS;
    this.dueAt = this.now + this.intervalMs;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return Promise.resolve();
  }

  health(): ComponentHealth {
    const stalled = this.stalledPipelines().map((p) => p.text);
    const extra = { fed: this.fed, withheld: this.withheld, last_lag_ms: Math.round(this.lastLagMs) };
    if (stalled.length > 0) return { state: 'down', detail: stalled.join('; '), ...extra };
    if (this.problem) return { state: 'degraded', detail: this.problem, ...extra };
    return { state: 'ok', ...extra };
  }

  /** One check, and the ping if it passes. Called by the timer; exposed so tests drive it on a fake clock. */
  tick(): void {
    const now = this.now;
    this.lastLagMs = Math.max(0, now - this.dueAt);
    this.dueAt = now + this.intervalMs;
    const found = this.stalledPipelines();
    if (this.lastLagMs > this.deps.maxLagMs) found.unshift({ what: 'lag', text: `the event loop answered ${Math.round(this.lastLagMs)} ms late (at most ${this.deps.maxLagMs} ms)` });
    const problems = found.map((p) => p.text);
    const key = found.map((p) => p.what).join();
    const systemd = this.deps.notify.watchdogIntervalMs() !== null;
    if (problems.length === 0) {
      if (this.problem) {
        this.deps.logger.info('the agent advances again: feeding the watchdog');
        void this.deps.notify.status('running');
      }
      this.problem = null;
      this.problemKey = '';
      if (systemd) {
        this.fed++;
        void this.deps.notify.watchdog();
      }
      return;
    }
    const problem = problems.join('; ');
    if (key !== this.problemKey) {
      this.deps.logger.error({ problems }, `${systemd ? 'not feeding the watchdog (systemd restarts the agent if this lasts)' : 'the agent is wedged'}: ${problem}`);
      void this.deps.notify.status(`wedged: ${problem}`);
    }
    this.problem = problem;
    this.problemKey = key;
    if (systemd) this.withheld++;
  }

  /** "vision has not advanced for 61 s (at most 60 s)" for each pipeline over its bound. */
  private stalledPipelines(): { what: string; text: string }[] {
    const now = this.now;
    const out: { what: string; text: string }[] = [];
    for (const pipeline of this.deps.pipelines()) {
      const progress = pipeline.progress();
      const last = this.seen.get(pipeline.name);
      if (!last || progress !== last.progress) {
        this.seen.set(pipeline.name, { progress, at: now });
        continue;
      }
      const idleMs = now - last.at;
      if (idleMs > pipeline.stallMs) {
        out.push({ what: pipeline.name, text: `${pipeline.name} has not advanced for ${Math.round(idleMs / 1000)} s (at most ${pipeline.stallMs / 1000} s)` });
      }
    }
    return out;
  }
}

/**
 * How far a pipeline has come, from its /health line: frames or readings taken, and restarts of the
 * pipeline or of its camera (a camera being restarted within its backoff is the agent doing its job).
 */
export function progressFromHealth(health: ComponentHealth): number {
  const count = (value: unknown) => (typeof value === 'number' ? value : 0);
  const camera = health.camera_stats as { restarts?: unknown } | null | undefined;
  return count(health.frames) + count(health.readings) + count(health.restarts) + count(camera?.restarts);
}
