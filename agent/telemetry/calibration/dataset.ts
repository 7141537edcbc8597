/**
 * The room's own forecasting examples, cut from its stored readings exactly as the pipeline cuts the
 * windows it forecasts from (forecast-window.ts: nearest reading per step, a few holes filled in), with
 * the reading one horizon after each window as its target. The most recent day is held out: the
 * candidate never trains on it and is judged on it, and no training example shares a reading with it.
 */
import type { ValidReading } from '../../store/types.js';
import { fillWindow, resampleToSteps } from '../forecast-window.js';

export interface TaskSpec {
  window: number;
  step_s: number;
  horizon_s: number;
}

export interface Examples {
  /** Each window: `window` values, oldest first. */
  windows: Float64Array[];
  targets: Float64Array;
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

function examples(windows: Float64Array[], targets: number[], targetTimes: number[]): Examples {
  return { windows, targets: Float64Array.from(targets), span: targetTimes.length > 0 ? [targetTimes[0]!, targetTimes[targetTimes.length - 1]!] : null };
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
  const training = { windows: [] as Float64Array[], targets: [] as number[], times: [] as number[] };
  const holdout = { windows: [] as Float64Array[], targets: [] as number[], times: [] as number[] };
  for (let end = spec.window - 1; end + horizonSteps < steps; end++) {
    const target = grid[end + horizonSteps];
    const targetTs = from + (end + horizonSteps) * stepMs;
    const part = targetTs > holdoutStart ? holdout : targetTs <= trainingEnd ? training : null;
    if (target === null || target === undefined || !part) continue;
    const filled = fillWindow(grid.slice(end - spec.window + 1, end + 1));
    if (!filled.ok) continue;
    part.windows.push(Float64Array.from(filled.values));
    part.targets.push(target);
    part.times.push(targetTs);
  }
  return {
    training: examples(training.windows, training.targets, training.times),
    holdout: examples(holdout.windows, holdout.targets, holdout.times),
    steps,
    stepsWithReading: grid.filter((v) => v !== null).length,
  };
}
