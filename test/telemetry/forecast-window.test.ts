import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildWindow, windowSpanMs } from '../../agent/telemetry/forecast-window.js';
import type { ValidReading } from '../../agent/store/types.js';

const spec = { window: 60, step_s: 60 };
const END = Date.UTC(2015, 1, 2, 15, 0, 0);

function series(n: number, stepMs: number, end = END, value = (i: number) => 20 + i / 10): ValidReading[] {
  return Array.from({ length: n }, (_, i) => ({ ts: end - (n - 1 - i) * stepMs, celsius: value(i) }));
}

describe('buildWindow', () => {
  it('takes 60 evenly spaced readings as they are', () => {
    const readings = series(60, 60_000);
    const w = buildWindow(readings, END, spec);
    expect(w).toEqual({ ok: true, values: readings.map((r) => r.celsius), from: END - 59 * 60_000, to: END, interpolated: 0 });
  });

  it('resamples faster readings to the model step by their timestamps, ignoring readings outside the window', () => {
    // One reading every 20 s for 2 hours: the value is the minute index, so each step must pick its own minute.
    const readings = series(360, 20_000, END, (i) => Math.floor((i - 359) / 3) + 1000);
    const w = buildWindow(readings, END, spec);
    expect(w.ok).toBe(true);
    if (!w.ok) return;
    expect(w.values).toHaveLength(60);
    expect(w.values[59]).toBe(1000);
    expect(w.values[0]).toBe(941);
  });

  it('uses readings that drift a little off the step', () => {
    const readings = series(60, 60_000).map((r, i) => ({ ...r, ts: r.ts + (i % 2 ? 25_000 : -25_000) }));
    const w = buildWindow(readings, END, spec);
    expect(w.ok && w.interpolated).toBe(0);
  });

  it('interpolates a few missing steps linearly', () => {
    const readings = series(60, 60_000, END, (i) => i).filter((_, i) => i !== 10 && i !== 11 && i !== 40);
    const w = buildWindow(readings, END, spec);
    expect(w.ok).toBe(true);
    if (!w.ok) return;
    expect(w.interpolated).toBe(3);
    expect(w.values[10]).toBeCloseTo(10);
    expect(w.values[11]).toBeCloseTo(11);
    expect(w.values[40]).toBeCloseTo(40);
  });

  it('fills a missing first step from the nearest known value', () => {
    const readings = series(60, 60_000, END, (i) => i).slice(2);
    const w = buildWindow(readings, END, spec);
    expect(w.ok && w.values.slice(0, 3)).toEqual([2, 2, 2]);
  });

  it('refuses a window with too many missing steps, saying how many it has', () => {
    const readings = series(60, 60_000).filter((_, i) => i % 8 !== 0);
    const w = buildWindow(readings, END, spec);
    expect(w).toEqual({ ok: false, reason: expect.stringMatching(/^only 52 of 60 steps of 60 s have a valid reading .*at most 6 may be missing$/) });
  });

  it('refuses a long gap even when the total is within the limit', () => {
    const readings = series(60, 60_000).filter((_, i) => i < 20 || i > 23);
    const w = buildWindow(readings, END, spec);
    expect(w).toEqual({ ok: false, reason: expect.stringMatching(/^4 consecutive steps/) });
  });

  it('refuses an empty window', () => {
    expect(buildWindow([], END, { window: 3, step_s: 60 }, { maxMissing: 5, maxGap: 5 }).ok).toBe(false);
  });

  it('always returns exactly `window` finite values or a reason (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ offset: fc.integer({ min: 0, max: 4_000_000 }), celsius: fc.double({ min: -40, max: 80, noNaN: true }) })), (raw) => {
        const readings = raw.map((r) => ({ ts: END - r.offset, celsius: r.celsius })).sort((a, b) => a.ts - b.ts);
        const w = buildWindow(readings, END, spec);
        if (w.ok) {
          expect(w.values).toHaveLength(60);
          for (const v of w.values) expect(Number.isFinite(v)).toBe(true);
        } else expect(w.reason.length).toBeGreaterThan(0);
      }),
    );
  });

  it('asks the store for just enough history', () => {
    expect(windowSpanMs(spec)).toBe(59 * 60_000 + 30_000);
  });
});
