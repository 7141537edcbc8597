/**
 * Per-client token buckets: `burst` requests at once, refilled at `perSecond` (the old usage plan: 10/s,
 * burst 10). Buckets that have refilled completely are forgotten, so the map stays as small as the set
 * of clients active in the last `burst / perSecond` seconds.
 */
export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Seconds until the next token, when refused (for Retry-After). */
  retryAfterS: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/** Sweep for full buckets at most this often, so a flood of distinct clients cannot grow the map forever. */
const SWEEP_INTERVAL_MS = 10_000;

export class TokenBucketLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweepMs = 0;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  take(client: string): RateLimitDecision {
    const nowMs = this.now();
    this.sweep(nowMs);
    const bucket = this.buckets.get(client) ?? { tokens: this.burst, updatedMs: nowMs };
    bucket.tokens = Math.min(this.burst, bucket.tokens + (elapsedMs(bucket.updatedMs, nowMs) / 1000) * this.perSecond);
    bucket.updatedMs = nowMs;
    this.buckets.set(client, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, limit: this.perSecond, remaining: Math.floor(bucket.tokens), retryAfterS: 0 };
    }
    const retryAfterS = Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond));
    return { allowed: false, limit: this.perSecond, remaining: 0, retryAfterS };
  }

  private sweep(nowMs: number): void {
    if (Math.abs(nowMs - this.lastSweepMs) < SWEEP_INTERVAL_MS) return;
    this.lastSweepMs = nowMs;
    for (const [client, bucket] of this.buckets) {
      if (bucket.tokens + (elapsedMs(bucket.updatedMs, nowMs) / 1000) * this.perSecond >= this.burst) this.buckets.delete(client);
    }
  }
}

/** Time passed, never negative: a wall clock stepping back a day must not empty every bucket for a day. */
function elapsedMs(since: number, now: number): number {
  return Math.max(0, now - since);
}
