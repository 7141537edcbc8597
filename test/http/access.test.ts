import { describe, expect, it } from 'vitest';
import { ApiKeys, presentedKey } from '../../agent/http/auth.js';
import { TokenBucketLimiter } from '../../agent/http/rate-limit.js';

describe('ApiKeys', () => {
  const keys = new ApiKeys(['first-key-123', 'second-key-456']);

  it('finds the index of a configured key, never a prefix, suffix or different case of one', () => {
    expect(keys.required).toBe(true);
    expect(keys.match('first-key-123')).toBe(0);
    expect(keys.match('second-key-456')).toBe(1);
    for (const wrong of ['first-key-12', 'first-key-1234', 'FIRST-KEY-123', '', 'second-key-456 ']) expect(keys.match(wrong)).toBe(-1);
  });

  it('requires nothing when no key is configured', () => {
    expect(new ApiKeys([]).required).toBe(false);
  });

  it('reads the key from x-api-key or a Bearer authorization header', () => {
    expect(presentedKey({ 'x-api-key': 'abc' })).toBe('abc');
    expect(presentedKey({ authorization: 'Bearer abc' })).toBe('abc');
    expect(presentedKey({ authorization: 'bearer   abc  ' })).toBe('abc');
    expect(presentedKey({ authorization: 'Basic YWJjOmRlZg==' })).toBeNull();
    expect(presentedKey({ 'x-api-key': '' })).toBeNull();
    expect(presentedKey({})).toBeNull();
  });
});

describe('TokenBucketLimiter', () => {
  function limiter(perSecond = 10, burst = 10) {
    let now = 1_000_000;
    const bucket = new TokenBucketLimiter(perSecond, burst, () => now);
    return { bucket, advance: (ms: number) => (now += ms) };
  }

  it('allows a burst, then refuses with the time until the next token', () => {
    const { bucket } = limiter();
    const remaining = Array.from({ length: 10 }, () => bucket.take('a'));
    expect(remaining.every((d) => d.allowed)).toBe(true);
    expect(remaining.map((d) => d.remaining)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    const refused = bucket.take('a');
    expect(refused).toEqual({ allowed: false, limit: 10, remaining: 0, retryAfterS: 1 });
  });

  it('refills at the sustained rate, never above the burst', () => {
    const { bucket, advance } = limiter();
    for (let i = 0; i < 10; i++) bucket.take('a');
    advance(250); // 2.5 tokens
    expect(bucket.take('a').allowed).toBe(true);
    expect(bucket.take('a').allowed).toBe(true);
    expect(bucket.take('a').allowed).toBe(false);
    advance(60_000);
    expect(bucket.take('a').remaining).toBe(9);
  });

  it('keeps one bucket per client', () => {
    const { bucket } = limiter(1, 2);
    bucket.take('a');
    bucket.take('a');
    expect(bucket.take('a').allowed).toBe(false);
    expect(bucket.take('b').allowed).toBe(true);
  });

  it('asks a client of a slow limit to wait several seconds', () => {
    const { bucket } = limiter(0.2, 1);
    bucket.take('a');
    expect(bucket.take('a').retryAfterS).toBe(5);
  });
});
