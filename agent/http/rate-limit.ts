/**
 * Per-client token buckets: `burst` requests at once, refilled at `perSecond` (the old usage plan: 10/s,
 * burst 10). Buckets that have refilled completely are forgotten, so the map stays as small as the set
 * of clients active in the last `burst / perSecond` seconds.
 */
import { TokenBucket } from '../lib/token-bucket.js';

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Seconds until the next token, when refused (for Retry-After). */
  retryAfterS: number;
}

/** Sweep for full buckets at most this often, so a flood of distinct clients cannot grow the map forever. */
const SWEEP_INTERVAL_MS = 10_000;

export class TokenBucketLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private lastSweepMs: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.lastSweepMs = now();
  }

  /**
   * Takes `count` tokens from the client's bucket, all or none (a batch request counts as its items): a
   * refusal takes nothing and says when all `count` will be there.
   */
  take(client: string, count = 1): RateLimitDecision {
    this.sweep();
    let bucket = this.buckets.get(client);
    if (!bucket) {
      bucket = new TokenBucket(this.perSecond, this.burst, this.now);
      this.buckets.set(client, bucket);
    }
    if (bucket.takeAll(count)) return { allowed: true, limit: this.perSecond, remaining: bucket.available(), retryAfterS: 0 };
    const retryAfterS = Math.max(1, Math.ceil(bucket.msUntil(count) / 1000));
    return { allowed: false, limit: this.perSecond, remaining: bucket.available(), retryAfterS };
  }

  private sweep(): void {
    const nowMs = this.now();
    if (Math.abs(nowMs - this.lastSweepMs) < SWEEP_INTERVAL_MS) return;
    this.lastSweepMs = nowMs;
    for (const [client, bucket] of this.buckets) {
      if (bucket.isFull()) this.buckets.delete(client);
    }
  }
}
