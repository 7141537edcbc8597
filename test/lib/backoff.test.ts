import { describe, expect, it } from 'vitest';
import { Backoff } from '../../agent/lib/backoff.js';

describe('Backoff', () => {
  it('doubles from the base up to the cap, and starts over after reset()', () => {
    const backoff = new Backoff({ baseMs: 1000, maxMs: 60_000 });
    const delays = Array.from({ length: 9 }, () => backoff.nextDelayMs());
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    backoff.reset();
    expect(backoff.nextDelayMs()).toBe(1000);
  });

  it('stays at the cap however long the failures go on', () => {
    const backoff = new Backoff({ baseMs: 50, maxMs: 400 });
    for (let i = 0; i < 2000; i++) backoff.nextDelayMs();
    expect(backoff.nextDelayMs()).toBe(400);
  });
});
