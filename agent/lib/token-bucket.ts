/**
 * A token bucket: up to `burst` tokens, refilled at `perSecond`, starting full. The relay paces its
 * publishes with one (AWS IoT Core throttles beyond 100 a second per connection); the HTTP API keeps one
 * per client (10 requests a second, burst 10). `now` is any clock in ms; a monotonic one is not moved by
 * the step a Pi's clock takes when NTP syncs.
 */
export class TokenBucket {
  private tokens: number;
  private updatedMs: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.updatedMs = now();
  }

  /** Takes up to `wanted` whole tokens; returns how many it took (0 when fewer than one is there). */
  take(wanted = 1): number {
    this.refill();
    const granted = Math.min(wanted, Math.floor(this.tokens));
    this.tokens -= granted;
    return granted;
  }

  /** Whole tokens there now. */
  available(): number {
    this.refill();
    return Math.floor(this.tokens);
  }

  /** Takes `count` whole tokens if they are all there, else none: true when it took them. */
  takeAll(count: number): boolean {
    this.refill();
    if (this.tokens < count) return false;
    this.tokens -= count;
    return true;
  }

  /** ms until the next whole token (0 when one is there). */
  msUntilNext(): number {
    return this.msUntil(1);
  }

  /** ms until `count` whole tokens are there (0 when they are). */
  msUntil(count: number): number {
    this.refill();
    return this.tokens >= count ? 0 : Math.ceil(((count - this.tokens) / this.perSecond) * 1000);
  }

  /** True once the bucket has refilled completely: forgetting it changes nothing. */
  isFull(): boolean {
    this.refill();
    return this.tokens >= this.burst;
  }

  private refill(): void {
    const nowMs = this.now();
    // Never a negative refill: a wall clock stepping back must not empty the bucket until it catches up.
    this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, nowMs - this.updatedMs) / 1000) * this.perSecond);
    this.updatedMs = nowMs;
  }
}
