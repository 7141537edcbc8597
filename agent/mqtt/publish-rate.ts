/**
 * A token bucket for the relay's publishes: AWS IoT Core accepts at most 100 publishes a second per
 * connection and throttles beyond that, so with its profile a backlog drains at that pace instead of
 * being throttled (which costs a reconnect and a resend).
 */
export class PublishRate {
  private tokens: number;
  private last: number;

  /** `perSecond` publishes a second on average, bursts of up to `perSecond`. */
  constructor(
    private readonly perSecond: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.tokens = perSecond;
    this.last = clock();
  }

  /** Takes up to `wanted` publishes from the budget; returns how many may go now. */
  take(wanted: number): number {
    const now = this.clock();
    // Never a negative refill: a wall clock stepping back must not stop the relay until it catches up.
    this.tokens = Math.min(this.perSecond, this.tokens + (Math.max(0, now - this.last) / 1000) * this.perSecond);
    this.last = now;
    const granted = Math.min(wanted, Math.floor(this.tokens));
    this.tokens -= granted;
    return granted;
  }

  /** ms until the next publish is allowed. */
  waitMs(): number {
    return Math.max(1, Math.ceil(((1 - this.tokens) / this.perSecond) * 1000));
  }
}
