/**
 * Forecast scores (the `forecast_scores` table, migration 3): what each forecast predicted, with the
 * model's prediction kept even when persistence was served, and what happened at its target time. The
 * telemetry's self-scoring writes them; its fallback, /metrics and the status page read the rolling errors.
 *
 * Writes go through the store's job batch (SqliteStore passes `write`), so a forecast and its score row
 * share one commit.
 */
import type { Database as Db, Statement } from 'better-sqlite3';
import type { ModelRef } from '../mqtt/contract/topics.js';

/** What a forecast predicted, written with it. */
export interface ScoreRecord {
  forecast_id: string;
  /** ms since the epoch: the time the forecast is for (its window's last step + its horizon). */
  target_ts: number;
  /** The model in the slot when the forecast was made (also when persistence was served instead). */
  model: ModelRef;
  model_celsius: number;
  persistence_celsius: number;
  served: 'model' | 'persistence';
}

export interface ScoredForecast extends ScoreRecord {
  actual_celsius: number;
}

/** Mean absolute errors of the scored forecasts in a span (null when none was scored). */
export interface ErrorSummary {
  scored: number;
  model_mae: number | null;
  persistence_mae: number | null;
  /** Of what was published: the model's forecast or persistence's. */
  served_mae: number | null;
}

/** Runs a write in the store's current job batch; false when it failed (logged and counted by the store). */
export type StoreWrite = (what: string, write: () => void) => boolean;

interface ScoreRow {
  forecast_id: string;
  target_ts: number;
  model_name: string;
  model_version: string;
  model_celsius: number;
  persistence_celsius: number;
  served: 'model' | 'persistence';
  actual_celsius: number;
}

export class ForecastScores {
  private readonly insert: Statement;
  private readonly pending: Statement;
  private readonly resolve: Statement;
  private readonly nearest: Statement;
  private readonly summaryAll: Statement;
  private readonly summaryOfModel: Statement;
  private readonly scoredRows: Statement;

  constructor(
    db: Db,
    private readonly write: StoreWrite,
  ) {
    this.insert = db.prepare(
      `INSERT INTO forecast_scores (forecast_id, target_ts, model_name, model_version, model_celsius, persistence_celsius, served)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.pending = db.prepare('SELECT forecast_id, target_ts FROM forecast_scores WHERE scored_ts IS NULL AND target_ts <= ? ORDER BY target_ts');
    this.resolve = db.prepare('UPDATE forecast_scores SET actual_celsius = ?, scored_ts = ? WHERE forecast_id = ?');
    this.nearest = db.prepare('SELECT celsius FROM readings WHERE valid = 1 AND ts BETWEEN ? AND ? ORDER BY abs(ts - ?), id LIMIT 1');
    const summary = `SELECT count(*) AS scored,
        avg(abs(model_celsius - actual_celsius)) AS model_mae,
        avg(abs(persistence_celsius - actual_celsius)) AS persistence_mae,
        avg(abs(CASE served WHEN 'model' THEN model_celsius ELSE persistence_celsius END - actual_celsius)) AS served_mae
      FROM forecast_scores WHERE actual_celsius IS NOT NULL AND target_ts > ? AND target_ts <= ?`;
    this.summaryAll = db.prepare(summary);
    this.summaryOfModel = db.prepare(`${summary} AND model_name = ? AND model_version = ?`);
    this.scoredRows = db.prepare('SELECT * FROM forecast_scores WHERE actual_celsius IS NOT NULL AND target_ts > ? ORDER BY target_ts LIMIT ?');
  }

  /** Records what a forecast predicted; call it in the same job as saveForecast() so both share a commit. */
  track(record: ScoreRecord): boolean {
    const r = record;
    return this.write('save the forecast score', () => {
      this.insert.run(r.forecast_id, r.target_ts, r.model.name, r.model.version, r.model_celsius, r.persistence_celsius, r.served);
    });
  }

  /** Forecasts not scored yet whose target time is at or before `untilTs`, oldest first. */
  due(untilTs: number): { forecast_id: string; target_ts: number }[] {
    return this.pending.all(untilTs) as { forecast_id: string; target_ts: number }[];
  }

  /** The valid reading nearest to `ts` within `withinMs` either side, or null. */
  readingNear(ts: number, withinMs: number): number | null {
    const row = this.nearest.get(ts - withinMs, ts + withinMs, ts) as { celsius: number } | undefined;
    return row?.celsius ?? null;
  }

  /** Scores a forecast with what happened (null: no reading came near its target time; it stays unscored for good). */
  settle(forecastId: string, actual: number | null, atTs: number): boolean {
    return this.write('score a forecast', () => {
      this.resolve.run(actual, atTs, forecastId);
    });
  }

  /** Errors of the forecasts scored with a target time in (sinceTs, untilTs], of one model or of all. */
  summary(sinceTs: number, untilTs: number, model?: ModelRef): ErrorSummary {
    const row = (model ? this.summaryOfModel.get(sinceTs, untilTs, model.name, model.version) : this.summaryAll.get(sinceTs, untilTs)) as ErrorSummary;
    return { scored: row.scored, model_mae: row.model_mae, persistence_mae: row.persistence_mae, served_mae: row.served_mae };
  }

  /** Scored forecasts with a target time after `sinceTs`, oldest first, at most `limit`. */
  scoredSince(sinceTs: number, limit = 10_000): ScoredForecast[] {
    return (this.scoredRows.all(sinceTs, limit) as ScoreRow[]).map((r) => ({
      forecast_id: r.forecast_id,
      target_ts: r.target_ts,
      model: { name: r.model_name, version: r.model_version },
      model_celsius: r.model_celsius,
      persistence_celsius: r.persistence_celsius,
      served: r.served,
      actual_celsius: r.actual_celsius,
    }));
  }
}
