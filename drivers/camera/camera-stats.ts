import type { Clock } from '../../agent/lib/timing.js';
import type { CameraStats } from './types.js';

/**
 * The bookkeeping behind `Camera.stats()`, shared by every driver: frames produced, restarts, the last
 * error, the age of the last frame and the frame rate over a sliding window (monotonic time).
 */
export class CameraStatsTracker {
  private frames = 0;
  private restarts = 0;
  private lastError: string | null = null;
  private lastFrameAt: number | null = null;
  /** Monotonic times of the frames inside the rate window, oldest first. */
  private readonly recent: number[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly windowMs = 5000,
  ) {}

  recordFrame(): void {
    const now = this.clock.monotonic();
    this.frames++;
    this.lastFrameAt = now;
    this.recent.push(now);
    this.prune(now);
  }

  recordRestart(): void {
    this.restarts++;
  }

  recordError(message: string): void {
    this.lastError = message;
  }

  snapshot(dropped: number): CameraStats {
    const now = this.clock.monotonic();
    this.prune(now);
    const first = this.recent[0];
    const last = this.recent[this.recent.length - 1];
    const fps = first !== undefined && last !== undefined && last > first ? ((this.recent.length - 1) * 1000) / (last - first) : 0;
    return {
      fps: Math.round(fps * 100) / 100,
      frames: this.frames,
      dropped,
      restarts: this.restarts,
      last_frame_age_ms: this.lastFrameAt === null ? null : Math.round(now - this.lastFrameAt),
      last_error: this.lastError,
    };
  }

  private prune(now: number): void {
    const horizon = now - this.windowMs;
    let stale = 0;
    while (stale < this.recent.length && this.recent[stale]! < horizon) stale++;
    if (stale > 0) this.recent.splice(0, stale);
  }
}
