/**
 * What a room's replay did, from its store: every scored forecast with the window it was made from, the
 * shipped model and each calibrated candidate run on the same windows, and the figures per day.
 */
import type { ModelRef } from '../../agent/mqtt/contract/topics.js';
import type { SqliteStore } from '../../agent/store/store.js';
import type { CalibrationOutcome } from '../../agent/telemetry/calibration/service.js';
import { buildWindow, windowSpanMs } from '../../agent/telemetry/forecast-window.js';
import { loadForecaster } from '../../models/forecast.js';
import type { ForecastContract, Forecaster } from '../../models/types.js';

export const DAY_MS = 86_400_000;

/** One scored forecast, with what the shipped model and the latest candidate said for its window. */
export interface ScoredRow {
  /** The window's last step (when the forecast was made, in data time). */
  made: number;
  target: number;
  /** Day of the replay (from 1) the target falls in. */
  day: number;
  model: ModelRef;
  modelCelsius: number;
  persistenceCelsius: number;
  served: 'model' | 'persistence';
  actual: number;
  shipped: number;
  /** The latest candidate fitted before the forecast was made (null before the first calibration). */
  candidate: number | null;
}

export interface DayFigures {
  day: number;
  from: number;
  scored: number;
  active: number;
  persistence: number;
  candidate: number | null;
  shipped: number;
  served: number;
  /** Fraction of the day's forecasts served by persistence. */
  fallback: number;
}

export const mae = (rows: readonly ScoredRow[], pick: (r: ScoredRow) => number) => rows.reduce((sum, r) => sum + Math.abs(pick(r) - r.actual), 0) / rows.length;
export const servedCelsius = (r: ScoredRow) => (r.served === 'model' ? r.modelCelsius : r.persistenceCelsius);

async function predictWith(path: string, windows: number[][]): Promise<number[]> {
  const forecaster = await loadForecaster(path);
  try {
    return await forecaster.forecastBatch(windows);
  } finally {
    await forecaster.close();
  }
}

/** The scored forecasts of a replay, each with its window run through the shipped model and the candidate of its time. */
export async function scoredRows(store: SqliteStore, calibrations: readonly CalibrationOutcome[], firstTs: number, shipped: Forecaster): Promise<ScoredRow[]> {
  const forecasts = new Map(store.forecastsSince(0, 10_000_000).map((f) => [f.id, f]));
  const contract: ForecastContract = shipped.contract;
  const spec = { window: contract.window, step_s: contract.step_s };
  const scored = store.scores.scoredSince(0, 10_000_000).flatMap((s) => {
    const made = forecasts.get(s.forecast_id)!.to_ts;
    const window = buildWindow(store.validReadingsSince(made - windowSpanMs(spec)), made, spec);
    return window.ok ? [{ score: s, made, window: window.values }] : [];
  });
  const windows = scored.map((s) => s.window);
  const shippedPredictions = await shipped.forecastBatch(windows);
  const candidates = calibrations.filter((c) => c.candidate_path !== null);
  const candidatePredictions = await Promise.all(candidates.map((c) => predictWith(c.candidate_path!, windows)));
  return scored.map(({ score, made }, i) => {
    const latest = candidates.findLastIndex((c) => c.ts <= made);
    return {
      made,
      target: score.target_ts,
      day: Math.floor((score.target_ts - firstTs) / DAY_MS) + 1,
      model: score.model,
      modelCelsius: score.model_celsius,
      persistenceCelsius: score.persistence_celsius,
      served: score.served,
      actual: score.actual_celsius,
      shipped: shippedPredictions[i]!,
      candidate: latest < 0 ? null : candidatePredictions[latest]![i]!,
    };
  });
}

export function dailyFigures(rows: readonly ScoredRow[], firstTs: number): DayFigures[] {
  const days = [...new Set(rows.map((r) => r.day))].sort((a, b) => a - b);
  return days.map((day) => {
    const of = rows.filter((r) => r.day === day);
    const withCandidate = of.filter((r) => r.candidate !== null);
    return {
      day,
      from: firstTs + (day - 1) * DAY_MS,
      scored: of.length,
      active: mae(of, (r) => r.modelCelsius),
      persistence: mae(of, (r) => r.persistenceCelsius),
      // Only when the whole day had a candidate: a part of a day is not comparable with the other columns.
      candidate: withCandidate.length === of.length ? mae(of, (r) => r.candidate!) : null,
      shipped: mae(of, (r) => r.shipped),
      served: mae(of, servedCelsius),
      fallback: of.filter((r) => r.served === 'persistence').length / of.length,
    };
  });
}
