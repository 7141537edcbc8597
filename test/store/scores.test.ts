import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../agent/lib/log.js';
import type { ScoreRecord } from '../../agent/store/scores.js';
import { SqliteStore } from '../../agent/store/store.js';
import type { ForecastRecord } from '../../agent/store/types.js';
import { nextTurn } from '../helpers/turn.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 1);
const shipped = { name: 'temperature-forecast', version: '1.1.0' };
const room = { name: 'temperature-forecast-room', version: 'room-20250104-0000' };

let dir: string;
let store: SqliteStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'edge-agent-scores-'));
  store = SqliteStore.open(join(dir, 'edge.db'), { logger: silentLogger(), config: { max_outbox_rows: 1000, retention_days: 2 }, clock: () => T0 + 10 * DAY });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A forecast made at `madeTs` for an hour later, saved with its score row in one job as the pipeline does. */
function forecastAt(madeTs: number, score: Omit<ScoreRecord, 'forecast_id' | 'target_ts'>): string {
  const id = `f-${madeTs}`;
  const record: ForecastRecord = { id, ts: madeTs, predicted_celsius: score.model_celsius, horizon_s: 3600, from_ts: madeTs - 59 * MINUTE, to_ts: madeTs, n: 60, model: score.model };
  store.saveForecast(record, []);
  store.scores.track({ forecast_id: id, target_ts: madeTs + 60 * MINUTE, ...score });
  return id;
}

const reading = (ts: number, celsius: number) => store.saveReading({ valid: true, celsius, ts, sensor: 's' }, []);

describe('ForecastScores', () => {
  it('keeps forecasts due until their target time, scores them with the nearest reading, and sums their errors per model and span', async () => {
    forecastAt(T0, { model: shipped, model_celsius: 21, persistence_celsius: 20, served: 'model' });
    forecastAt(T0 + 10 * MINUTE, { model: shipped, model_celsius: 23, persistence_celsius: 20, served: 'persistence' });
    forecastAt(T0 + 20 * MINUTE, { model: room, model_celsius: 22, persistence_celsius: 21, served: 'model' });
    await nextTurn();
    expect(store.scores.due(T0 + 59 * MINUTE)).toEqual([]);
    expect(store.scores.due(T0 + 70 * MINUTE).map((d) => d.forecast_id)).toEqual([`f-${T0}`, `f-${T0 + 10 * MINUTE}`]);

    // Readings 20 s before and 40 s after the first target: the nearer one counts; nothing near the second.
    reading(T0 + 60 * MINUTE - 20_000, 21.5);
    reading(T0 + 60 * MINUTE + 40_000, 30);
    reading(T0 + 80 * MINUTE, 22.5);
    expect(store.scores.readingNear(T0 + 60 * MINUTE, 30_000)).toBe(21.5);
    expect(store.scores.readingNear(T0 + 70 * MINUTE, 30_000)).toBeNull();
    store.scores.settle(`f-${T0}`, 21.5, T0 + 61 * MINUTE);
    store.scores.settle(`f-${T0 + 10 * MINUTE}`, null, T0 + 71 * MINUTE);
    store.scores.settle(`f-${T0 + 20 * MINUTE}`, 22.5, T0 + 81 * MINUTE);
    expect(store.scores.due(T0 + DAY)).toEqual([]);

    const span = [T0, T0 + 2 * 60 * MINUTE] as const;
    // Only forecasts with an actual count: the one without a reading near its target is left out.
    expect(store.scores.summary(...span)).toEqual({ scored: 2, model_mae: (0.5 + 0.5) / 2, persistence_mae: (1.5 + 1.5) / 2, served_mae: (0.5 + 0.5) / 2 });
    expect(store.scores.summary(...span, shipped)).toEqual({ scored: 1, model_mae: 0.5, persistence_mae: 1.5, served_mae: 0.5 });
    expect(store.scores.summary(T0 + 70 * MINUTE, span[1], shipped)).toEqual({ scored: 0, model_mae: null, persistence_mae: null, served_mae: null });
    expect(store.scores.scoredSince(T0).map((s) => [s.forecast_id, s.model.version, s.actual_celsius])).toEqual([
      [`f-${T0}`, '1.1.0', 21.5],
      [`f-${T0 + 20 * MINUTE}`, room.version, 22.5],
    ]);
  });

  it('writes in the job of the forecast it belongs to, and goes when prune() removes that forecast', async () => {
    const old = forecastAt(T0, { model: shipped, model_celsius: 21, persistence_celsius: 20, served: 'model' });
    forecastAt(T0 + 9 * DAY, { model: shipped, model_celsius: 21, persistence_celsius: 20, served: 'model' });
    await nextTurn();
    expect(store.scores.due(T0 + 10 * DAY)).toHaveLength(2);
    expect(store.prune().forecasts).toBe(1);
    expect(store.scores.due(T0 + 10 * DAY).map((d) => d.forecast_id)).not.toContain(old);
    expect(store.scores.due(T0 + 10 * DAY)).toHaveLength(1);
  });

  it('knows the oldest valid reading (how many days of this room it holds) and its own file', () => {
    expect(store.firstValidReadingTs()).toBeNull();
    store.saveReading({ valid: false, error: 'CRC', ts: T0 - DAY, sensor: 's' }, []);
    reading(T0 + 5 * MINUTE, 20);
    reading(T0, 20);
    expect(store.firstValidReadingTs()).toBe(T0);
    expect(store.path).toBe(join(dir, 'edge.db'));
  });
});
