/**
 * The room's own forecasting examples, cut from its stored readings exactly as the pipeline cuts the
 * windows it forecasts from (forecast-window.ts: nearest reading per step, a few holes filled in), with
 * the reading one horizon after each window as its target. The most recent day is held out: the
 * candidate never trains on it and is judged on it, and no training example shares a reading with it.
 *
 * Windows are not copied out: an example is where it starts on the history's step grid (only windows
 * with filled-in holes keep their own values), so four weeks of a room cost about a megabyte, not fifty.
 */
import type { ValidReading } from '../../store/types.js';
import { fillWindow, resampleToSteps } from '../forecast-window.js';

export interface TaskSpec {
  window: number;
  step_s: number;
  horizon_s: number;
}

export interface Examples {
  count: number;
  /** Writes example `i`'s window (`window` values, oldest first) into `into`. */
  window(i: number, into: Float64Array): void;
  target(i: number): number;
  /** ms since the epoch of the first and last example's target (null when there is none). */
  span: [number, number] | null;
}

export interface CalibrationData {
  training: Examples;
  holdout: Examples;
  /** Steps from the first reading to the end, and how many of them have a reading. */
  steps: number;
  stepsWithReading: number;
}

/** 24 h: one whole daily cycle to judge a candidate on. */
export const HOLDOUT_MS = 86_400_000;

/** Examples as they are found, in time order. */
class ExampleList implements Examples {
  private readonly starts: number[] = [];
  private readonly targets: number[] = [];
  private readonly times: number[] = [];
  /** The windows that had holes filled in, by example. */
  private readonly filled = new Map<number, Float64Array>();

  constructor(
    private readonly grid: readonly (number | null)[],
    private readonly width: number,
  ) {}

  add(start: number, target: number, targetTs: number, filled: readonly number[] | null): void {
    if (filled) this.filled.set(this.starts.length, Float64Array.from(filled));
    this.starts.push(start);
    this.targets.push(target);
    this.times.push(targetTs);
  }

  get count(): number {
    return this.starts.length;
  }

  get span(): [number, number] | null {
    return this.times.length > 0 ? [this.times[0]!, this.times[this.times.length - 1]!] : null;
  }

  window(i: number, into: Float64Array): void {
    const own = this.filled.get(i);
    if (own) into.set(own);
    else for (let k = 0, start = this.starts[i]!; k < this.width; k++) into[k] = this.grid[start + k] as number;
  }

  target(i: number): number {
    return this.targets[i]!;
  }
}

/**
 * Every example whose target falls in the readings up to `endTs` (readings sorted oldest first), split
 * into the held-out last `holdoutMs` and what came before it, less the examples that would share a
 * reading with the held-out ones.
 */
export function calibrationData(readings: Iterable<ValidReading>, firstTs: number, endTs: number, spec: TaskSpec, holdoutMs = HOLDOUT_MS): CalibrationData {
  const stepMs = spec.step_s * 1000;
  const horizonSteps = Math.round(spec.horizon_s / spec.step_s);
  // Steps end exactly at endTs, so the held-out examples are the latest ones the readings allow.
  const steps = Math.max(0, Math.floor((endTs - firstTs) / stepMs) + 1);
  const from = endTs - (steps - 1) * stepMs;
  const grid = resampleToSteps(readings, from, stepMs, steps);
  const holdoutStart = endTs - holdoutMs;
  // A training target must come before the first reading of the first held-out window.
  const trainingEnd = holdoutStart - (spec.window + horizonSteps) * stepMs;
  const training = new ExampleList(grid, spec.window);
  const holdout = new ExampleList(grid, spec.window);
  for (let end = spec.window - 1; end + horizonSteps < steps; end++) {
    const target = grid[end + horizonSteps];
    const targetTs = from + (end + horizonSteps) * stepMs;
    const part = targetTs > holdoutStart ? holdout : targetTs <= trainingEnd ? training : null;
    if (target === null || target === undefined || !part) continue;
    const start = end - spec.window + 1;
    const slots = grid.slice(start, end + 1);
    const filled = fillWindow(slots);
    if (filled.ok) part.add(start, target, targetTs, filled.interpolated > 0 ? filled.values : null);
  }
  return { training, holdout, steps, stepsWithReading: grid.filter((v) => v !== null).length };
}
