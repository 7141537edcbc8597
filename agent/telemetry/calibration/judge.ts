/**
 * Judges a candidate against the active model on the held-out day, both run by onnxruntime as they
 * would serve: the candidate wins only when every one of its forecasts is a number, its error is at
 * least `margin` below the active model's, and below persistence's.
 */
import type { Forecaster } from '../../../models/types.js';
import { meanAbsoluteError } from './linear.js';

export interface Verdict {
  promote: boolean;
  reason: string;
  candidate_mae: number | null;
  active_mae: number;
  persistence_mae: number;
}

export interface HeldOutDay {
  windows: number[][];
  targets: ArrayLike<number>;
}

const celsius = (value: number) => `${value.toFixed(3)} °C`;

/** The flat held-out windows from the worker as arrays, `width` values each. */
export function heldOutDay(flat: Float32Array, targets: Float64Array, width: number): HeldOutDay {
  return { windows: Array.from({ length: targets.length }, (_, i) => Array.from(flat.subarray(i * width, (i + 1) * width))), targets };
}

export async function judge(candidate: Forecaster, active: Forecaster, day: HeldOutDay, margin: number): Promise<Verdict> {
  const [mine, theirs] = [await candidate.forecastBatch(day.windows), await active.forecastBatch(day.windows)];
  const active_mae = meanAbsoluteError(theirs, day.targets);
  const persistence_mae = meanAbsoluteError(day.windows.map((w) => w[w.length - 1]!), day.targets);
  const broken = mine.filter((p) => !Number.isFinite(p)).length;
  if (broken > 0) {
    return { promote: false, reason: `${broken} of ${mine.length} of its forecasts on the held-out day are not numbers`, candidate_mae: null, active_mae, persistence_mae };
  }
  const candidate_mae = meanAbsoluteError(mine, day.targets);
  const scores = { candidate_mae, active_mae, persistence_mae };
  const against = `${celsius(candidate_mae)} against ${celsius(active_mae)} for ${active.info.name} ${active.info.version} and ${celsius(persistence_mae)} for persistence on the held-out day`;
  if (candidate_mae > active_mae * (1 - margin)) {
    return { promote: false, reason: `not at least ${Math.round(margin * 100)}% better than the active model: ${against}`, ...scores };
  }
  if (candidate_mae >= persistence_mae) return { promote: false, reason: `not better than persistence: ${against}`, ...scores };
  return { promote: true, reason: `better by ${Math.round((1 - candidate_mae / active_mae) * 100)}%: ${against}`, ...scores };
}
