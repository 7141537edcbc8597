/**
 * The store's SQL, prepared once per connection, and the mapping of rows back to the shapes of
 * agent/contracts.ts.
 */
import type { Database as Db, Statement } from 'better-sqlite3';
import type { Reading } from '../../drivers/sensors/index.js';
import type { DetectedObject } from '../../models/types.js';
import type { DetectionRecord, ForecastRecord, TrackedObject } from './types.js';

export type Row = Record<string, unknown>;

export interface Statements {
  insertReading: Statement;
  insertDetection: Statement;
  setDetectionSnapshot: Statement;
  insertForecast: Statement;
  insertOutbox: Statement;
  dropOldestOutbox: Statement;
  deleteOutbox: Statement;
  deleteOutboxRange: Statement;
  pendingOutbox: Statement;
  outboxSize: Statement;
  validReadingsSince: Statement;
  readingsSince: Statement;
  lastForecast: Statement;
  forecastsSince: Statement;
  recentDetections: Statement;
  saveState: Statement;
  loadState: Statement;
}

export function prepare(db: Db): Statements {
  return {
    // Every record ends with its clock epoch and whether the clock was synchronised (agent/store/clock-epochs.ts).
    insertReading: db.prepare('INSERT INTO readings (ts, sensor, celsius, valid, error, clock_epoch, clock_synced) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    insertDetection: db.prepare(
      'INSERT INTO detections (id, event_id, event, camera, ts, objects, model_name, model_version, snapshot, clock_epoch, clock_synced) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    setDetectionSnapshot: db.prepare('UPDATE detections SET snapshot = ? WHERE id = ?'),
    insertForecast: db.prepare(
      'INSERT INTO forecasts (id, ts, predicted_celsius, horizon_s, from_ts, to_ts, n, model_name, model_version, clock_epoch, clock_synced) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    insertOutbox: db.prepare('INSERT INTO outbox (id, topic, payload, retain, created_at) VALUES (?, ?, ?, ?, ?)'),
    dropOldestOutbox: db.prepare('DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT ?)'),
    deleteOutbox: db.prepare('DELETE FROM outbox WHERE id IN (SELECT value FROM json_each(?))'),
    deleteOutboxRange: db.prepare('DELETE FROM outbox WHERE id BETWEEN ? AND ?'),
    pendingOutbox: db.prepare('SELECT id, topic, payload, retain, created_at FROM outbox WHERE id > ? AND id < ? ORDER BY id LIMIT ?'),
    outboxSize: db.prepare('SELECT count(*) AS n, max(id) AS max FROM outbox'),
    // Ordered by the store's own sequence (row ids), never by wall time, which can step (clock-epochs.ts).
    // A forecast window is made of the current clock epoch only: it never spans a step.
    validReadingsSince: db.prepare('SELECT ts, celsius FROM readings WHERE clock_epoch = ? AND valid = 1 AND ts >= ? ORDER BY id'),
    readingsSince: db.prepare('SELECT ts, sensor, celsius, valid, error FROM readings WHERE ts >= ? ORDER BY id LIMIT ?'),
    lastForecast: db.prepare('SELECT * FROM forecasts ORDER BY rowid DESC LIMIT 1'),
    forecastsSince: db.prepare('SELECT * FROM forecasts WHERE ts >= ? ORDER BY rowid LIMIT ?'),
    recentDetections: db.prepare('SELECT * FROM detections ORDER BY rowid DESC LIMIT ?'),
    saveState: db.prepare('INSERT INTO agent_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    loadState: db.prepare('SELECT value FROM agent_state WHERE key = ?'),
  };
}

export function toReading(r: Row): Reading {
  const base = { ts: r.ts as number, sensor: r.sensor as string };
  return r.valid === 1 ? { valid: true, celsius: r.celsius as number, ...base } : { valid: false, error: (r.error as string | null) ?? 'invalid', ...base };
}

export function toForecast(r: Row): ForecastRecord {
  return {
    id: r.id as string,
    ts: r.ts as number,
    predicted_celsius: r.predicted_celsius as number,
    horizon_s: r.horizon_s as number,
    from_ts: r.from_ts as number,
    to_ts: r.to_ts as number,
    n: r.n as number,
    model: { name: r.model_name as string, version: r.model_version as string },
  };
}

/** Rows written before objects were tracked hold bare detections. */
type StoredObject = DetectedObject & Partial<TrackedObject>;

/** A bare detection reads as an untracked object (empty track id) at its own score, not stationary, in no zone. */
function withTrack(o: StoredObject): TrackedObject {
  return { ...o, track_id: o.track_id ?? '', top_score: o.top_score ?? o.confidence, stationary: o.stationary ?? false, zones: o.zones ?? [] };
}

export function toDetection(r: Row): DetectionRecord {
  return {
    id: r.id as string,
    event_id: r.event_id as string,
    event: r.event as DetectionRecord['event'],
    camera: r.camera as string,
    ts: r.ts as number,
    objects: (JSON.parse(r.objects as string) as StoredObject[]).map(withTrack),
    model: { name: r.model_name as string, version: r.model_version as string },
    snapshot: (r.snapshot as string | null) ?? null,
  };
}

/** `[first, last]` when `ids` are consecutive ascending integers (PUBACKs of an in-order burst), else null: one range DELETE. */
export function contiguousRange(ids: readonly number[]): [number, number] | null {
  for (let i = 1; i < ids.length; i++) if (ids[i] !== ids[i - 1]! + 1) return null;
  return [ids[0]!, ids[ids.length - 1]!];
}
