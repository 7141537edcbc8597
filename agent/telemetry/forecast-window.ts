/**
 * Builds the forecaster's input from stored readings by their timestamps, not by counting rows: the
 * model wants `window` values exactly `step_s` apart, while a sensor's readings drift, miss a beat, or
 * come faster than the step. Each step takes the reading nearest to it (within half a step); a few
 * missing steps are filled by linear interpolation; a window with too many holes is refused with a
 * reason, because a forecast from invented data is worse than none.
 */
import type { ValidReading } from '../store/types.js';

export interface WindowSpec {
  /** Values the model takes, oldest first. */
  window: number;
  /** Seconds between two of them. */
  step_s: number;
}

export interface WindowLimits {
  /** Missing steps allowed in the whole window. */
  maxMissing: number;
  /** Consecutive missing steps allowed (a longer gap is an outage, not a hiccup). */
  maxGap: number;
}

/** 10% of a 60-step window, and at most 3 steps in a row. */
export const DEFAULT_LIMITS: WindowLimits = { maxMissing: 6, maxGap: 3 };

export type WindowResult =
  | { ok: true; values: number[]; from: number; to: number; interpolated: number }
  | { ok: false; reason: string };

/** How far back to query the store for a window ending at `endTs`. */
export function windowSpanMs(spec: WindowSpec): number {
  return (spec.window - 1) * spec.step_s * 1000 + spec.step_s * 500;
}

/**
 * The window of `spec.window` steps ending at `endTs` (ms), from readings sorted oldest first (readings
 * outside the window are ignored). `from`/`to` are the times of the first and last step.
 */
export function buildWindow(
  readings: readonly ValidReading[],
  endTs: number,
  spec: WindowSpec,
  limits: WindowLimits = DEFAULT_LIMITS,
): WindowResult {
  const stepMs = spec.step_s * 1000;
  const from = endTs - (spec.window - 1) * stepMs;
  const filled = fillWindow(resampleToSteps(readings, from, stepMs, spec.window), limits);
  if (filled.ok) return { ok: true, values: filled.values, from, to: endTs, interpolated: filled.interpolated };
  const when = `window ${new Date(from).toISOString()} to ${new Date(endTs).toISOString()}`;
  if (filled.gap === null) {
    return {
      ok: false,
      reason: `only ${spec.window - filled.missing} of ${spec.window} steps of ${spec.step_s} s have a valid reading (${when}); at most ${limits.maxMissing} may be missing`,
    };
  }
  return { ok: false, reason: `${filled.gap} consecutive steps of ${spec.step_s} s have no valid reading (${when}); at most ${limits.maxGap} may be filled in` };
}

/**
 * The steps' values (null where no reading is within half a step), or why there are too many holes:
 * `gap` null means too many missing in all, else the longest run of missing steps was too long.
 */
export function fillWindow(
  slots: readonly (number | null)[],
  limits: WindowLimits = DEFAULT_LIMITS,
): { ok: true; values: number[]; interpolated: number } | { ok: false; missing: number; gap: number | null } {
  const missing = slots.filter((v) => v === null).length;
  if (missing > limits.maxMissing || missing === slots.length) return { ok: false, missing, gap: null };
  const gap = longestGap(slots);
  if (gap > limits.maxGap) return { ok: false, missing, gap };
  return { ok: true, values: fillGaps(slots), interpolated: missing };
}

/**
 * For each of `steps` steps from `from`, the reading closest to it within half a step (null when none),
 * from readings sorted oldest first (others are ignored): the forecaster's windows, and the calibration's
 * whole history, are resampled the same way.
 */
export function resampleToSteps(readings: Iterable<ValidReading>, from: number, stepMs: number, steps: number): (number | null)[] {
  const best: { distance: number; celsius: number }[] = [];
  for (const r of readings) {
    const index = Math.round((r.ts - from) / stepMs);
    if (index < 0 || index >= steps) continue;
    const distance = Math.abs(r.ts - (from + index * stepMs));
    if (distance > stepMs / 2) continue;
    const current = best[index];
    if (!current || distance < current.distance) best[index] = { distance, celsius: r.celsius };
  }
  return Array.from({ length: steps }, (_, i) => best[i]?.celsius ?? null);
}

function longestGap(slots: readonly (number | null)[]): number {
  let longest = 0;
  let run = 0;
  for (const v of slots) {
    run = v === null ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  return longest;
}

/** Linear interpolation between the known neighbours; a gap at either edge takes the nearest known value. */
function fillGaps(slots: readonly (number | null)[]): number[] {
  const known = slots.flatMap((v, i) => (v === null ? [] : [i]));
  return slots.map((v, i) => {
    if (v !== null) return v;
    const after = known.find((k) => k > i);
    const before = known.findLast((k) => k < i);
    if (before === undefined) return slots[after!]!;
    if (after === undefined) return slots[before]!;
    const a = slots[before]!;
    const b = slots[after]!;
    return a + ((b - a) * (i - before)) / (after - before);
  });
}
