/**
 * What the pipelines write and how: records, the outbox messages that announce them, and `AgentStore`,
 * the one interface every pipeline writes through (SqliteStore implements it).
 */
import type { Reading } from '../../drivers/sensors/index.js';
import type { DetectedObject } from '../../models/types.js';
import type { ModelRef } from '../mqtt/contract/topics.js';

/** A message waiting in the SQLite outbox. Data messages go at QoS 1. */
export interface OutboxMessage {
  /** Full topic (base topic included). */
  topic: string;
  payload: string | Buffer;
  retain?: boolean;
}

/** An outbox row as the relay sees it. */
export interface OutboxRow {
  id: number;
  topic: string;
  payload: string | Buffer;
  retain: boolean;
  /** ms since the epoch, when it was enqueued. */
  created_at: number;
}

/** A detected object as an intrusion event reports it: the detection of one frame, and its track. */
export interface TrackedObject extends DetectedObject {
  /** The same for one object across frames (and messages) while it is tracked. */
  track_id: string;
  /** Its best score since it was first seen. */
  top_score: number;
  /** Confirmed but not moving: it keeps an event open, raises no alert and does not extend the alarm. */
  stationary: boolean;
  /** The `intruder.zones` it is in now (its bottom centre, after the zone's inertia). */
  zones: string[];
}

export interface DetectionRecord {
  /** The message id of the alert it produced. */
  id: string;
  event_id: string;
  event: 'start' | 'update' | 'end';
  /** The camera that saw it (`main`: the one camera of `camera:`). */
  camera: string;
  /** ms since the epoch. */
  ts: number;
  objects: TrackedObject[];
  model: ModelRef;
  /** Path of the snapshot JPEG on disk, if one was kept. */
  snapshot: string | null;
}

export interface ForecastRecord {
  id: string;
  ts: number;
  predicted_celsius: number;
  horizon_s: number;
  /** ms since the epoch of the window's first and last reading. */
  from_ts: number;
  to_ts: number;
  n: number;
  model: ModelRef;
  /** Set when persistence was served instead of the model (not stored in the forecasts table; the scores keep both). */
  fallback?: { reason: string; instead_of: ModelRef };
}

export interface ValidReading {
  ts: number;
  celsius: number;
}

/**
 * Everything a pipeline writes goes through here: the record and its outgoing messages in one SQLite
 * transaction, before anything is sent. Methods are synchronous (better-sqlite3) and never throw on
 * disk-full or I/O errors: they log, count and return false.
 */
export interface AgentStore {
  saveReading(reading: Reading, messages: OutboxMessage[]): boolean;
  saveDetection(record: DetectionRecord, messages: OutboxMessage[]): boolean;
  /**
   * Names the snapshot file of a saved detection (null: none on disk) with the messages that publish the
   * snapshot, in one transaction: the detection is saved first, so the alert never waits for an encoder.
   */
  attachSnapshot(detectionId: string, path: string | null, messages: OutboxMessage[]): boolean;
  saveForecast(record: ForecastRecord, messages: OutboxMessage[]): boolean;
  /** Messages that describe no stored record (alarm state, model info, command responses). */
  enqueue(messages: OutboxMessage[]): boolean;
  /** Saves a small JSON value under `key` (replacing the last one): state that must survive a restart. */
  saveState(key: string, value: unknown): boolean;
  /** The value saved under `key`, or null. */
  loadState(key: string): unknown;
  /** Valid readings with `ts >= sinceTs`, oldest first (the forecaster's window comes from here). */
  validReadingsSince(sinceTs: number): ValidReading[];
  lastForecast(): ForecastRecord | null;
}
