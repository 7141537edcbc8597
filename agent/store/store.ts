/**
 * SQLite store-and-forward (better-sqlite3). Every record is written together with the outbox rows
 * that announce it, in one transaction, before anything is sent; the relay publishes outbox rows and
 * deletes each one only after the broker acknowledged it. That is what makes a broker outage, kill -9
 * or a power cut lose nothing.
 *
 * Durability (docs/configuration.md, "Durability", has the measured numbers): WAL with
 * `synchronous = NORMAL` plus group commit, at two levels. The writes of one JavaScript job share one
 * commit, made before the job yields (JobBatch); a commit reaches the OS at once, so kill -9 or a crash
 * loses nothing that anyone has seen (not even a message is sent before its commit). `sync()` fsyncs
 * the WAL in the background (WalSync) at most once a second when something was committed
 * (StoreMaintenance drives it), and saveDetection() fsyncs it before it returns. A power cut thus loses
 * at most the last second of readings and forecasts, never an alert, and never corrupts the file.
 * `FULL` would fsync every commit on the event loop (better-sqlite3 is synchronous): ~0.5 to 6 ms each
 * here, capping the store at a few hundred commits a second.
 */
import { dirname } from 'node:path';
import Database, { type Database as Db } from 'better-sqlite3';
import type { Reading } from '../../drivers/sensors/index.js';
import type { StoreConfig } from '../config/types.js';
import type { ComponentHealth } from '../runtime/service.js';
import type { AgentStore, DetectionRecord, ForecastRecord, OutboxMessage, OutboxRow, ValidReading } from './types.js';
import type { EventBus } from '../runtime/event-bus.js';
import type { Logger } from '../lib/log.js';
import { JobBatch } from './batch.js';
import { Outbox, type StagedRows } from './outbox.js';
import { prepare, toDetection, toForecast, toReading, type Row, type Statements } from './queries.js';
import { configureConnection } from './connection.js';
import { migrate } from './schema.js';
import { ForecastScores } from './scores.js';
import { makeDirSync } from '../lib/make-dir.js';
import { WriteGuard } from './write-guard.js';
import { WalSync, type FileSyncer } from './wal-sync.js';
import { ClockEpochs, pruneByAge, type ClockStamp } from './clock-epochs.js';
import { systemClockSynced } from './clock-sync.js';
import { checkDatabase, copyReadableOutbox, describeRecovery, moveAside, type DatabaseRecovery } from './recovery.js';


export interface StoreDeps {
  logger: Logger;
  bus?: EventBus;
  config: StoreConfig;
  /** ms since the epoch; injected so tests control retention and latency figures. */
  clock?: () => number;
  /** Monotonic ms, to see the wall clock step (default performance.now, or `clock` when only that is injected). */
  monotonic?: () => number;
  /** Whether the system clock is synchronised, written with every record (default: agent/store/clock-sync.ts). */
  clockSynced?: () => boolean;
  /** Payloads larger than this are refused at enqueue time (AWS IoT Core: 128 KB); null = no limit. */
  maxPayloadBytes?: number | null;
  /** Caps the file at this many pages (1 KB each in files this agent created): bounds the database on a shared SD card, and lets tests fill it. */
  maxPageCount?: number;
  /** `NORMAL` (default, with group commit through sync()) or `FULL` (fsync per commit); benchmarks compare them. */
  synchronous?: 'FULL' | 'NORMAL';
  /** How the WAL is fsynced (default: node:fs); tests watch or break it. */
  fileSyncer?: FileSyncer;
}

export interface StoreStats {
  outbox_depth: number;
  /** Oldest outbox rows dropped to respect `max_outbox_rows`, since open. */
  outbox_dropped: number;
  /** Messages refused at enqueue time (payload too large), since open. */
  refused: number;
  /** Writes that failed (disk full, I/O error), since open. */
  write_errors: number;
}

export interface PruneResult {
  readings: number;
  detections: number;
  forecasts: number;
}

const DAY_MS = 86_400_000;

export class SqliteStore implements AgentStore {
  /** Forecast scores, written in this store's job batches (agent/store/scores.ts). */
  readonly scores: ForecastScores;
  /** Writes of the current JavaScript job share one commit (JobBatch). */
  private readonly batch: JobBatch;
  /** The messages waiting for the broker, written in the same transactions as their records. */
  private readonly outbox: Outbox;
  private closed = false;
  /** Something was committed since the last sync(). */
  private dirty = false;
  /** Set when the file was damaged at start and replaced (agent/store/recovery.ts); reported in health and over MQTT. */
  recovery: DatabaseRecovery | null = null;

  private constructor(
    private readonly db: Db,
    private readonly stmt: Statements,
    private readonly deps: StoreDeps,
    private readonly guard: WriteGuard,
    /** Null for `:memory:` (no file to sync). */
    private readonly walSync: WalSync | null,
    private readonly epochs: ClockEpochs,
  ) {
    this.batch = new JobBatch(db, { committed: () => this.batchCommitted(), lost: (err, writes) => this.batchLost(err, writes) });
    const logger = deps.logger.child({ module: 'store' });
    this.outbox = new Outbox({ stmt, batch: this.batch, guard, maxRows: deps.config.max_outbox_rows, maxPayloadBytes: deps.maxPayloadBytes ?? null, logger, ...(deps.bus ? { bus: deps.bus } : {}) });
    this.scores = new ForecastScores(db, (what, write) => this.guard.run(what, () => this.batch.add(write)));
  }

  /** The database file (`:memory:` for an in-memory store): the calibration worker reads readings from it. */
  get path(): string {
    return this.db.name;
  }

  /** Time of the oldest valid reading kept, or null: how many days of this room the store holds. */
  firstValidReadingTs(): number | null {
    return (this.db.prepare('SELECT min(ts) AS ts FROM readings WHERE valid = 1').get() as { ts: number | null }).ts;
  }

  /**
   * Opens (creating it and its folder if needed) and migrates the database at `path` (`:memory:` for
   * tests). A file that fails SQLite's quick check, or is no database, is moved aside and replaced by a
   * fresh one holding the outbox rows that could be read (`recovery` says what happened). Throws a clear
   * error if the file was written by a newer agent.
   */
  static open(path: string, deps: StoreDeps): SqliteStore {
    if (path === ':memory:') return SqliteStore.openFile(path, deps);
    makeDirSync(dirname(path));
    const damage = checkDatabase(path);
    if (damage === null) return SqliteStore.openFile(path, deps);
    const at = (deps.clock ?? Date.now)();
    const movedTo = moveAside(path, at);
    let salvaged = { rows: 0, unreadable: 0 };
    const store = SqliteStore.openFile(path, deps, (db) => (salvaged = copyReadableOutbox(movedTo, db)));
    store.recovery = { at, reason: damage, moved_to: movedTo, recovered_outbox_rows: salvaged.rows, unreadable_ranges: salvaged.unreadable };
    deps.logger.child({ module: 'store' }).error({ recovery: store.recovery }, describeRecovery(store.recovery));
    return store;
  }

  /** Opens and migrates; `salvage` fills the fresh database of a recovery before the outbox counts its rows. */
  private static openFile(path: string, deps: StoreDeps, salvage?: (db: Db) => void): SqliteStore {
    let db: Db | undefined;
    try {
      db = new Database(path);
      configureConnection(db, deps.synchronous ?? 'NORMAL');
      migrate(db, path);
      salvage?.(db);
      const wall = deps.clock ?? Date.now;
      const epochs = new ClockEpochs(db, {
        wall,
        monotonic: deps.monotonic ?? (deps.clock ? wall : () => performance.now()),
        synced: deps.clockSynced ?? systemClockSynced(),
        logger: deps.logger.child({ module: 'store' }),
      });
      // The schema (and anything an older agent left in the WAL) reaches the database file now.
      db.pragma('wal_checkpoint(TRUNCATE)');
      if (deps.maxPageCount !== undefined) db.pragma(`max_page_count = ${deps.maxPageCount}`);
      const logger = deps.logger.child({ module: 'store' });
      // Monotonic: a clock step must not silence (or unsilence) repeated failures for a day.
      const guard = new WriteGuard(logger, () => performance.now());
      const walSync = path === ':memory:' ? null : new WalSync(`${path}-wal`, (err) => store.syncFailed(err), deps.fileSyncer);
      const store: SqliteStore = new SqliteStore(db, prepare(db), deps, guard, walSync, epochs);
      return store;
    } catch (err) {
      db?.close();
      const code = (err as { code?: string }).code;
      if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
        throw new Error(`${path} is not a usable SQLite database (${code}): move it away and the agent starts a new one`, { cause: err });
      }
      throw err;
    }
  }

  saveReading(reading: Reading, messages: OutboxMessage[]): boolean {
    return this.write('reading', messages, (clock) => {
      this.stmt.insertReading.run(
        reading.ts,
        reading.sensor,
        reading.valid ? reading.celsius : null,
        reading.valid ? 1 : 0,
        reading.valid ? null : reading.error,
        clock.epoch,
        clock.synced,
      );
    });
  }

  /** Synced to disk before it returns: an intrusion must survive a power cut that follows it. */
  saveDetection(record: DetectionRecord, messages: OutboxMessage[]): boolean {
    const saved = this.write('detection', messages, (clock) => {
      this.stmt.insertDetection.run(
        record.id,
        record.event_id,
        record.event,
        record.camera,
        record.ts,
        JSON.stringify(record.objects),
        record.model.name,
        record.model.version,
        record.snapshot,
        clock.epoch,
        clock.synced,
      );
    });
    return this.syncNow() && saved;
  }

  attachSnapshot(detectionId: string, path: string | null, messages: OutboxMessage[]): boolean {
    return this.write('snapshot', messages, () => this.stmt.setDetectionSnapshot.run(path, detectionId));
  }

  saveForecast(record: ForecastRecord, messages: OutboxMessage[]): boolean {
    return this.write('forecast', messages, (clock) => {
      const r = record;
      this.stmt.insertForecast.run(r.id, r.ts, r.predicted_celsius, r.horizon_s, r.from_ts, r.to_ts, r.n, r.model.name, r.model.version, clock.epoch, clock.synced);
    });
  }

  enqueue(messages: OutboxMessage[]): boolean {
    return this.write('messages', messages, () => {});
  }

  saveState(key: string, value: unknown): boolean {
    return this.guard.run(`save the ${key} state`, () => this.batch.add(() => this.stmt.saveState.run(key, JSON.stringify(value))));
  }

  /** Null when nothing was saved, or when the saved text is not JSON (logged). */
  loadState(key: string): unknown {
    const row = this.stmt.loadState.get(key) as { value: string } | undefined;
    if (!row) return null;
    try {
      return JSON.parse(row.value) as unknown;
    } catch (err) {
      this.deps.logger.warn({ err, key }, `the saved ${key} state is not JSON; starting without it`);
      return null;
    }
  }

  /** Of the current clock epoch only: a forecast window never spans a clock step. */
  validReadingsSince(sinceTs: number): ValidReading[] {
    return this.stmt.validReadingsSince.all(this.epochs.epoch, sinceTs) as ValidReading[];
  }

  lastForecast(): ForecastRecord | null {
    const row = this.stmt.lastForecast.get() as Row | undefined;
    return row ? toForecast(row) : null;
  }

  /** Every reading (valid or not) with `ts >= sinceTs`, oldest first, at most `limit`. */
  readingsSince(sinceTs: number, limit = 10_000): Reading[] {
    return (this.stmt.readingsSince.all(sinceTs, limit) as Row[]).map(toReading);
  }

  /** Forecasts with `ts >= sinceTs`, oldest first, at most `limit`. */
  forecastsSince(sinceTs: number, limit = 10_000): ForecastRecord[] {
    return (this.stmt.forecastsSince.all(sinceTs, limit) as Row[]).map(toForecast);
  }

  /** The newest detections first. */
  recentDetections(limit: number): DetectionRecord[] {
    return (this.stmt.recentDetections.all(limit) as Row[]).map(toDetection);
  }

  /** Outbox rows with `id > afterId`, oldest first: what the relay publishes next (see Outbox.pending). */
  pendingOutbox(limit: number, afterId = 0): OutboxRow[] {
    return this.outbox.pending(limit, afterId);
  }

  /** Deletes acknowledged outbox rows (ids already dropped by the cap are ignored). False if the write failed. */
  deleteOutbox(ids: readonly number[]): boolean {
    return this.outbox.acknowledge(ids);
  }

  outboxDepth(): number {
    return this.outbox.size();
  }

  /** Called after every commit that added outbox rows (the relay wakes up). Returns an unsubscribe function. */
  onEnqueue(listener: () => void): () => void {
    return this.outbox.onEnqueue(listener);
  }

  /**
   * Makes every commit so far durable (group commit): an fsync of the WAL in the background. A failure
   * is logged and counted, and the next sync() tries again.
   */
  sync(): void {
    if (!this.dirty || this.closed || !this.walSync) return;
    this.dirty = false;
    this.walSync.request();
  }

  /**
   * Deletes records more than `retention_days` older than the newest record or now, whichever is earlier
   * (outbox rows are kept: the cap bounds them), then checkpoints and truncates the WAL and hands free
   * pages back to the file system. Run it periodically (StoreMaintenance does, hourly).
   *
   * Ages count on the current timeline (agent/store/clock-epochs.ts), so a clock step of a year forward
   * does not wipe the history; from the newest record when the data is older than the clock, so a replay
   * of old data (the occupancy files are from 2015) keeps its last `retention_days`.
   */
  prune(): PruneResult {
    let removed: PruneResult = { readings: 0, detections: 0, forecasts: 0 };
    let committed = false;
    this.guard.run('prune', () => {
      this.batch.add(() => {
        removed = pruneByAge(this.db, this.epochs, this.now(), this.deps.config.retention_days * DAY_MS);
      });
      // Now, with whatever this job wrote before: a checkpoint cannot run inside a transaction. A failed
      // commit is logged by the batch.
      committed = this.batch.commit();
      if (!committed) return;
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.pragma('incremental_vacuum');
    });
    return committed ? removed : { readings: 0, detections: 0, forecasts: 0 };
  }

  stats(): StoreStats {
    return { ...this.outbox.stats(), write_errors: this.guard.failures };
  }

  health(): ComponentHealth {
    const stats = this.stats();
    const failure = this.guard.lastFailure;
    const recovered = this.recovery ? { recovery: this.recovery } : {};
    // Down: records and their messages are being lost, the one thing the agent must not do quietly.
    if (failure) return { state: 'down', detail: `cannot write to the database: ${failure}`, ...stats, ...recovered };
    // Degraded for as long as the process runs: records were lost, and the owner should know.
    if (this.recovery) return { state: 'degraded', detail: describeRecovery(this.recovery), ...stats, ...recovered };
    return { state: 'ok', ...stats };
  }

  /** Checkpoints the WAL into the main file (which deletes it) and closes. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.batch.commit();
    this.closed = true;
    this.outbox.close();
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (err) {
      this.deps.logger.warn({ err }, 'WAL checkpoint at close failed');
    }
    this.db.close();
  }

  /** A background fsync failed: logged and counted like any write, and retried by the next sync(). */
  private syncFailed(err: unknown): void {
    this.dirty = true;
    this.guard.fail('sync the database to disk', err);
  }

  /** Commits this job's writes and fsyncs the WAL before it returns: an alert is on disk before anything else happens. */
  private syncNow(): boolean {
    if (this.closed) return true;
    if (!this.batch.commit()) return false;
    if (!this.dirty || !this.walSync) return true;
    const walSync = this.walSync;
    const ok = this.guard.run('sync the database to disk', () => walSync.now());
    if (ok) this.dirty = false;
    return ok;
  }

  /**
   * One atomic write: the record (if any), then its outbox rows and the cap; committed with the rest of
   * this job's writes (JobBatch). False if a message was refused or the write failed.
   */
  private write(what: string, messages: OutboxMessage[], insertRecord: (clock: ClockStamp) => void): boolean {
    const staged: StagedRows = this.outbox.stage(messages, this.now());
    const ok = this.guard.run(`save ${what}`, () =>
      this.batch.add(
        () => {
          insertRecord(this.epochs.stamp());
          this.outbox.insert(staged);
        },
        () => this.outbox.committed(staged),
      ),
    );
    if (!ok) return false;
    this.outbox.accept(staged);
    return staged.complete;
  }

  private batchCommitted(): void {
    this.dirty = true;
    this.outbox.batchCommitted();
  }

  /** A batch was rolled back: its records and messages are gone (logged and counted). */
  private batchLost(err: unknown, writes: number): void {
    this.guard.fail(`save the last ${writes} write(s), rolled back together`, err);
    this.outbox.batchLost();
  }

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }
}
