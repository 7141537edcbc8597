import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../agent/lib/token-bucket.js';

function bucket(perSecond: number, burst: number) {
  let now = 5_000;
  return { bucket: new TokenBucket(perSecond, burst, () => now), advance: (ms: number) => (now += ms) };
}

describe('TokenBucket', () => {
  it('starts full and grants at most what it holds, in whole tokens', () => {
    const { bucket: b } = bucket(100, 100);
    expect(b.take(60)).toBe(60);
    expect(b.take(60)).toBe(40);
    expect(b.take(1)).toBe(0);
    expect(b.available()).toBe(0);
  });

  it('refills at its rate, never above the burst', () => {
    const { bucket: b, advance } = bucket(10, 5);
    b.take(5);
    advance(250); // 2.5 tokens
    expect(b.take(5)).toBe(2);
    advance(60_000);
    expect(b.available()).toBe(5);
    expect(b.isFull()).toBe(true);
  });

  it('says how long until the next whole token', () => {
    const { bucket: b, advance } = bucket(4, 1);
    expect(b.msUntilNext()).toBe(0);
    b.take();
    expect(b.msUntilNext()).toBe(250);
    advance(100);
    expect(b.msUntilNext()).toBe(150);
    expect(b.isFull()).toBe(false);
  });

  it('takes a count of tokens all or none, and says when they will all be there', () => {
    const { bucket: b, advance } = bucket(10, 10);
    expect(b.takeAll(7)).toBe(true);
    expect(b.takeAll(4)).toBe(false);
    expect(b.available()).toBe(3);
    expect(b.msUntil(4)).toBe(100);
    expect(b.msUntil(3)).toBe(0);
    advance(100);
    expect(b.takeAll(4)).toBe(true);
    expect(b.available()).toBe(0);
  });
});
