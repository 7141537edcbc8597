/**
 * Exponential backoff shared by everything that retries: capture processes, the MQTT relay's reconnects,
 * crashed pipelines. Base, 2x base, 4x base ... up to max (1 s to 60 s by default), so a camera that is
 * unplugged does not spin a process every second forever, and one that comes back is picked up within a
 * minute.
 */
export interface BackoffTiming {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffTiming = { baseMs: 1_000, maxMs: 60_000 };

export class Backoff {
  private failures = 0;

  constructor(private readonly timing: BackoffTiming = DEFAULT_BACKOFF) {}

  /** Records one more failure in a row and returns how long to wait before the next attempt. */
  nextDelayMs(): number {
    this.failures++;
    const exponent = Math.min(this.failures - 1, 30);
    return Math.min(this.timing.maxMs, this.timing.baseMs * 2 ** exponent);
  }

  /** The last attempt worked: the next failure waits the base delay again. */
  reset(): void {
    this.failures = 0;
  }
}
