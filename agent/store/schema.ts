/**
 * The database layout, as an ordered list of migrations. `PRAGMA user_version` holds how many have run;
 * opening the store runs the rest, each in its own transaction. Never edit a migration that shipped:
 * append a new one.
 */
import type { Database } from 'better-sqlite3';

const MIGRATIONS: readonly string[] = [
  // 1: the four tables. Times are ms since the epoch (UTC). Outbox ids are assigned by the store from a
  // counter (not AUTOINCREMENT, which rewrites sqlite_sequence on every insert: one more page per commit).
  `
  CREATE TABLE readings (
    id INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    sensor TEXT NOT NULL,
    celsius REAL,
    valid INTEGER NOT NULL,
    error TEXT
  );
  CREATE INDEX readings_ts ON readings (ts);
  CREATE TABLE detections (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    event TEXT NOT NULL,
    ts INTEGER NOT NULL,
    objects TEXT NOT NULL,
    model_name TEXT NOT NULL,
    model_version TEXT NOT NULL,
    snapshot TEXT
  );
  CREATE INDEX detections_ts ON detections (ts);
  CREATE TABLE forecasts (
    id TEXT PRIMARY KEY,
    ts INTEGER NOT NULL,
    predicted_celsius REAL NOT NULL,
    horizon_s REAL NOT NULL,
    from_ts INTEGER NOT NULL,
    to_ts INTEGER NOT NULL,
    n INTEGER NOT NULL,
    model_name TEXT NOT NULL,
    model_version TEXT NOT NULL
  );
  CREATE INDEX forecasts_ts ON forecasts (ts);
  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    retain INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );
  `,
  // 2: small pieces of state that must survive a restart (the temperature alerts' state), as JSON.
  `
  CREATE TABLE agent_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  // 3: forecast scores (agent/store/scores.ts). A row per forecast: the model's prediction (kept even when
  // persistence was served), persistence's, and, once the target time's reading is stored, what happened
  // (scored_ts set; actual_celsius NULL when no reading came near the target time). Rows go with their
  // forecast when prune() deletes it.
  `
  CREATE TABLE forecast_scores (
    forecast_id TEXT PRIMARY KEY,
    target_ts INTEGER NOT NULL,
    model_name TEXT NOT NULL,
    model_version TEXT NOT NULL,
    model_celsius REAL NOT NULL,
    persistence_celsius REAL NOT NULL,
    served TEXT NOT NULL,
    actual_celsius REAL,
    scored_ts INTEGER
  );
  CREATE INDEX forecast_scores_target ON forecast_scores (target_ts);
  CREATE INDEX forecast_scores_pending ON forecast_scores (target_ts) WHERE scored_ts IS NULL;
  CREATE TRIGGER forecast_scores_follow_forecasts AFTER DELETE ON forecasts BEGIN
    DELETE FROM forecast_scores WHERE forecast_id = old.id;
  END;
  `,
  // 4: clock safety (agent/store/clock-epochs.ts). Each record says in which clock epoch (a stretch of
  // wall time without a step) it was made and whether the clock was synchronised then (NULL: unknown,
  // made before this migration); each epoch has the shift that maps its times onto the current timeline.
  `
  CREATE TABLE clock_epochs (
    epoch INTEGER PRIMARY KEY,
    started_at INTEGER NOT NULL,
    shift_ms INTEGER NOT NULL DEFAULT 0,
    cause TEXT NOT NULL
  );
  INSERT INTO clock_epochs (epoch, started_at, shift_ms, cause) VALUES (0, 0, 0, 'first start');
  ALTER TABLE readings ADD COLUMN clock_epoch INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE readings ADD COLUMN clock_synced INTEGER;
  ALTER TABLE detections ADD COLUMN clock_epoch INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE detections ADD COLUMN clock_synced INTEGER;
  ALTER TABLE forecasts ADD COLUMN clock_epoch INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE forecasts ADD COLUMN clock_synced INTEGER;
  CREATE INDEX readings_epoch_ts ON readings (clock_epoch, ts);
  CREATE INDEX detections_epoch_ts ON detections (clock_epoch, ts);
  CREATE INDEX forecasts_epoch_ts ON forecasts (clock_epoch, ts);
  `,
  // 5: several cameras (agent/vision/camera-profiles.ts): which one saw the intrusion; rows from before
  // were the one camera's, `main`.
  `ALTER TABLE detections ADD COLUMN camera TEXT NOT NULL DEFAULT 'main';`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database to SCHEMA_VERSION. A database written by a newer agent (after a downgrade) is
 * refused rather than guessed at.
 */
export function migrate(db: Database, path: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(
      `${path}: database schema version ${current} is newer than this agent understands (${SCHEMA_VERSION}); upgrade edge-agent or move the file away`,
    );
  }
  if (current === 0) {
    // Must be set before the first table exists; lets prune() hand freed pages back to the file system.
    db.pragma('auto_vacuum = INCREMENTAL');
  }
  for (let version = current; version < SCHEMA_VERSION; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
