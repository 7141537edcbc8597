import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StoreConfig } from '../../agent/config/types.js';
import type { DetectionRecord, ForecastRecord, OutboxMessage } from '../../agent/store/types.js';
import { EventBus } from '../../agent/runtime/event-bus.js';
import { silentLogger } from '../../agent/lib/log.js';
import { StoreMaintenance } from '../../agent/store/maintenance.js';
import { SCHEMA_VERSION } from '../../agent/store/schema.js';
import { fileSyncer, type FileSyncer } from '../../agent/store/wal-sync.js';
import { SqliteStore, type StoreDeps } from '../../agent/store/store.js';
import { captureLog } from '../helpers/log-capture.js';
import { nextTurn } from '../helpers/turn.js';

const config: StoreConfig = { max_outbox_rows: 1000, retention_days: 30 };
const msg = (n: number, topic = 'edge/dev/telemetry/temperature'): OutboxMessage => ({ topic, payload: JSON.stringify({ n }) });
const DAY = 86_400_000;

/** Outbox rows another connection sees: what is committed. */
function committedOutboxRows(): number {
  const other = new Database(join(dir, 'edge.db'), { readonly: true });
  try {
    return (other.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
  } finally {
    other.close();
  }
}

interface SyncCall {
  path: string;
  /** syncNow() (before returning) rather than sync() (in the background). */
  now: boolean;
  /** Outbox rows committed when the fsync ran: what it made durable. */
  committedRows: number;
}

/**
 * The real fsyncs, watched; the first `failures` fail as a failing SD card makes them fail. `finished`
 * counts the background ones that have returned.
 */
function watchedSyncs({ failures = 0 } = {}): FileSyncer & { calls: SyncCall[]; finished: () => number } {
  let failing = failures;
  let finished = 0;
  const calls: SyncCall[] = [];
  const fail = () => {
    if (failing-- > 0) throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_FSYNC' });
  };
  return {
    calls,
    finished: () => finished,
    async sync(path) {
      calls.push({ path, now: false, committedRows: committedOutboxRows() });
      fail();
      await fileSyncer.sync(path);
      finished++;
    },
    syncNow(path) {
      calls.push({ path, now: true, committedRows: committedOutboxRows() });
      fail();
      fileSyncer.syncNow(path);
    },
  };
}

let dir: string;
let store: SqliteStore | null = null;

function open(deps: Partial<StoreDeps> = {}, file = 'edge.db'): SqliteStore {
  store = SqliteStore.open(join(dir, file), { logger: silentLogger(), config, ...deps });
  return store;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'edge-store-'));
});
afterEach(() => {
  store?.close();
  store = null;
  rmSync(dir, { recursive: true, force: true });
});

const detection = (id: string, ts: number): DetectionRecord => ({
  id,
  event_id: 'ev-1', camera: 'main',
  event: 'start',
  ts,
  objects: [{ class: 'person', confidence: 0.91, bbox: { xmin: 1, ymin: 2, xmax: 30, ymax: 40 }, track_id: 't1', top_score: 0.91, stationary: false, zones: [] }],
  model: { name: 'yolov8n', version: '1' },
  snapshot: '/data/snapshots/1.jpg',
});

const forecast = (id: string, ts: number, predicted: number): ForecastRecord => ({
  id,
  ts,
  predicted_celsius: predicted,
  horizon_s: 3600,
  from_ts: ts - 3_540_000,
  to_ts: ts,
  n: 60,
  model: { name: 'temperature-forecast', version: '1' },
});

describe('SqliteStore', () => {
  it('creates the schema by migration, in WAL mode, and reopens it', () => {
    const s = open();
    s.saveReading({ valid: true, celsius: 21.5, ts: 1000, sensor: 'sim' }, [msg(1)]);
    s.close();
    const raw = new Database(join(dir, 'edge.db'), { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
    const again = open();
    expect(again.validReadingsSince(0)).toEqual([{ ts: 1000, celsius: 21.5 }]);
    expect(again.outboxDepth()).toBe(1);
  });

  it('refuses a database written by a newer agent with a clear error (a damaged one is replaced: recovery.test.ts)', () => {
    const newer = new Database(join(dir, 'newer.db'));
    newer.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    newer.close();
    expect(() => open({}, 'newer.db')).toThrow(`schema version ${SCHEMA_VERSION + 1} is newer than this agent understands (${SCHEMA_VERSION})`);
  });

  it('writes a record and its messages together, and hands the outbox to the relay oldest first', async () => {
    const s = open();
    expect(s.saveReading({ valid: true, celsius: 20, ts: 1, sensor: 'sim' }, [msg(1)])).toBe(true);
    expect(s.saveDetection(detection('d1', 2), [msg(2, 'edge/dev/alerts/intruder'), { topic: 'edge/dev/snapshot', payload: Buffer.from([0xff, 0xd8]), retain: true }])).toBe(true);
    expect(s.saveForecast(forecast('f1', 3, 21.25), [msg(3, 'edge/dev/forecast/temperature')])).toBe(true);
    expect(s.enqueue([msg(4, 'edge/dev/alarm')])).toBe(true);
    expect(s.outboxDepth()).toBe(5);
    await nextTurn();
    const rows = s.pendingOutbox(10);
    expect(rows.map((r) => r.topic)).toEqual([
      'edge/dev/telemetry/temperature',
      'edge/dev/alerts/intruder',
      'edge/dev/snapshot',
      'edge/dev/forecast/temperature',
      'edge/dev/alarm',
    ]);
    expect(rows[2]!.payload).toEqual(Buffer.from([0xff, 0xd8]));
    expect(rows[2]!.retain).toBe(true);
    expect(rows[0]!.retain).toBe(false);
    expect(s.pendingOutbox(2, rows[1]!.id).map((r) => r.id)).toEqual([rows[2]!.id, rows[3]!.id]);
    expect(s.deleteOutbox([rows[0]!.id, rows[2]!.id, 999_999])).toBe(true);
    expect(s.outboxDepth()).toBe(3);
    expect(s.pendingOutbox(10).map((r) => r.id)).toEqual([rows[1]!.id, rows[3]!.id, rows[4]!.id]);
  });

  it('never reuses an outbox id after the newest rows were delivered (the relay cursor depends on it)', async () => {
    const s = open();
    s.enqueue([msg(1), msg(2)]);
    await nextTurn();
    const ids = s.pendingOutbox(10).map((r) => r.id);
    s.deleteOutbox(ids);
    await nextTurn();
    s.enqueue([msg(3)]);
    await nextTurn();
    expect(s.pendingOutbox(10)[0]!.id).toBeGreaterThan(Math.max(...ids));
  });

  it('reads readings, forecasts and detections back for the forecaster and the status page', () => {
    const s = open();
    s.saveReading({ valid: true, celsius: 20, ts: 100, sensor: 'sim' }, []);
    s.saveReading({ valid: false, error: 'CRC mismatch', ts: 200, sensor: 'sht3x@0x44' }, []);
    s.saveReading({ valid: true, celsius: 21, ts: 300, sensor: 'sim' }, []);
    expect(s.validReadingsSince(150)).toEqual([{ ts: 300, celsius: 21 }]);
    expect(s.readingsSince(150)).toEqual([
      { valid: false, error: 'CRC mismatch', ts: 200, sensor: 'sht3x@0x44' },
      { valid: true, celsius: 21, ts: 300, sensor: 'sim' },
    ]);
    expect(s.lastForecast()).toBeNull();
    s.saveForecast(forecast('f1', 1000, 20.5), []);
    s.saveForecast(forecast('f2', 2000, 22.75), []);
    expect(s.lastForecast()).toEqual(forecast('f2', 2000, 22.75));
    expect(s.forecastsSince(1500)).toEqual([forecast('f2', 2000, 22.75)]);
    s.saveDetection(detection('d1', 10), []);
    s.saveDetection({ ...detection('d2', 20), event: 'end', objects: [], snapshot: null }, []);
    expect(s.recentDetections(5)).toEqual([{ ...detection('d2', 20), event: 'end', objects: [], snapshot: null }, detection('d1', 10)]);
  });

  it('attaches a snapshot to a saved detection with the message that publishes it', async () => {
    const s = open();
    s.saveDetection({ ...detection('d1', 10), snapshot: null }, [msg(1, 'edge/dev/alerts/intruder')]);
    expect(s.attachSnapshot('d1', '/data/snapshots/d1.jpg', [{ topic: 'edge/dev/snapshot', payload: Buffer.from([0xff, 0xd8]), retain: true }])).toBe(true);
    expect(s.recentDetections(1)[0]!.snapshot).toBe('/data/snapshots/d1.jpg');
    await Promise.resolve(); // the group commit at the end of the job
    expect(s.pendingOutbox(10).map((r) => r.topic)).toEqual(['edge/dev/alerts/intruder', 'edge/dev/snapshot']);
  });

  it('reads a detection stored before tracking as untracked objects', () => {
    const s = open();
    const bare = { class: 'person', confidence: 0.8, bbox: { xmin: 1, ymin: 2, xmax: 3, ymax: 4 } };
    s.saveDetection({ ...detection('d1', 10), objects: [bare] as never }, []);
    expect(s.recentDetections(1)[0]!.objects).toEqual([{ ...bare, track_id: '', top_score: 0.8, stationary: false, zones: [] }]);
  });

  it('caps the outbox by dropping the oldest rows, counting them and emitting outbox.dropped', async () => {
    const log = captureLog();
    const bus = new EventBus(log.logger);
    const dropped: number[] = [];
    bus.on('outbox.dropped', {}, (e) => dropped.push(e.count));
    const s = open({ logger: log.logger, bus, config: { max_outbox_rows: 100, retention_days: 30 } });
    for (let i = 0; i < 100; i++) s.enqueue([msg(i)]);
    expect(dropped).toEqual([]);
    s.enqueue([msg(100), msg(101), msg(102)]);
    expect(dropped).toEqual([3]);
    expect(s.outboxDepth()).toBe(100);
    expect(s.stats().outbox_dropped).toBe(3);
    await nextTurn();
    const payloads = s.pendingOutbox(1000).map((r) => JSON.parse(String(r.payload)) as { n: number });
    expect(payloads[0]!.n).toBe(3);
    expect(payloads[99]!.n).toBe(102);
    expect(log.matching(/outbox full: dropped the 3 oldest/)).toHaveLength(1);
  });

  it('refuses a payload over the broker limit at enqueue time, with a clear log, and keeps the rest', () => {
    const log = captureLog();
    const s = open({ logger: log.logger, maxPayloadBytes: 1024 });
    const big: OutboxMessage = { topic: 'things/dev/snapshot', payload: Buffer.alloc(2000), retain: true };
    expect(s.saveDetection(detection('d1', 1), [msg(1, 'things/dev/alerts/intruder'), big])).toBe(false);
    expect(s.recentDetections(1)).toHaveLength(1);
    expect(s.pendingOutbox(10).map((r) => r.topic)).toEqual(['things/dev/alerts/intruder']);
    expect(s.stats().refused).toBe(1);
    const [line] = log.matching(/refused/);
    expect(line?.msg).toBe("message to things/dev/snapshot refused: its payload is 2000 bytes, over the broker's limit of 1024 bytes");
  });

  it('survives a full disk: the write fails, is logged once with its meaning, and writes resume when space frees', async () => {
    const log = captureLog();
    const s = open({ logger: log.logger, maxPageCount: 40 });
    const payload = 'x'.repeat(3000);
    let failedAt = -1;
    for (let i = 0; i < 200 && failedAt < 0; i++) {
      if (!s.saveReading({ valid: true, celsius: 20, ts: i, sensor: 'sim' }, [{ topic: 't', payload }])) failedAt = i;
      await nextTurn(); // one reading per job, as the sensor delivers them
    }
    expect(failedAt).toBeGreaterThan(0);
    const depthAtFailure = s.outboxDepth();
    // More failures while the disk stays full are counted, not logged again.
    for (let i = 0; i < 5; i++) expect(s.enqueue([{ topic: 't', payload }])).toBe(false);
    expect(s.outboxDepth()).toBe(depthAtFailure);
    expect(s.stats().write_errors).toBe(6);
    const errors = log.lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toMatch(/^could not save reading: SQLITE_FULL: the disk is full \(or the database reached its size cap\)/);
    expect(s.health()).toMatchObject({ state: 'down', detail: expect.stringMatching(/cannot write to the database: SQLITE_FULL/) });
    // The relay delivers and deletes; the freed pages take new rows.
    s.deleteOutbox(s.pendingOutbox(1000).map((r) => r.id));
    expect(s.enqueue([{ topic: 't', payload }])).toBe(true);
    expect(s.health().state).toBe('ok');
    expect(log.matching(/database writes succeed again/)).toHaveLength(1);
  });

  it('prunes records older than retention_days, keeps the outbox, and truncates the WAL', () => {
    let now = 100 * DAY;
    const s = open({ clock: () => now, config: { max_outbox_rows: 1000, retention_days: 30 } });
    s.saveReading({ valid: true, celsius: 19, ts: now - 31 * DAY, sensor: 'sim' }, [msg(1)]);
    s.saveReading({ valid: true, celsius: 20, ts: now - 29 * DAY, sensor: 'sim' }, []);
    s.saveDetection(detection('old', now - 40 * DAY), []);
    s.saveForecast(forecast('old', now - 35 * DAY, 20), []);
    s.saveForecast(forecast('new', now, 21), []);
    expect(statSync(join(dir, 'edge.db-wal')).size).toBeGreaterThan(0);
    expect(s.prune()).toEqual({ readings: 1, detections: 1, forecasts: 1 });
    expect(s.validReadingsSince(0)).toEqual([{ ts: now - 29 * DAY, celsius: 20 }]);
    expect(s.recentDetections(10)).toEqual([]);
    expect(s.forecastsSince(0).map((f) => f.id)).toEqual(['new']);
    expect(s.outboxDepth()).toBe(1);
    expect(statSync(join(dir, 'edge.db-wal')).size).toBe(0);
    now += 30 * DAY;
    s.saveReading({ valid: true, celsius: 21, ts: now, sensor: 'sim' }, []);
    expect(s.prune().readings).toBe(1);
  });

  it('counts the age of replayed (older than the clock) data from the newest record, not the wall clock', () => {
    const now = Date.parse('2026-11-23T00:00:00Z');
    const replayed = Date.parse('2015-02-04T12:00:00Z');
    const s = open({ clock: () => now, config: { max_outbox_rows: 1000, retention_days: 30 } });
    s.saveReading({ valid: true, celsius: 19, ts: replayed - 31 * DAY, sensor: 'replay' }, []);
    s.saveReading({ valid: true, celsius: 20, ts: replayed, sensor: 'replay' }, []);
    expect(s.prune().readings).toBe(1);
    expect(s.validReadingsSince(0)).toEqual([{ ts: replayed, celsius: 20 }]);
  });

  it('tells its listeners once per commit that added outbox rows, after it, and not after a failed write', async () => {
    const s = open();
    let calls = 0;
    const unsubscribe = s.onEnqueue(() => calls++);
    s.enqueue([msg(1)]);
    s.enqueue([msg(2)]);
    expect(calls).toBe(0); // not committed yet: the relay must not see them
    await nextTurn();
    expect(calls).toBe(1); // the job's writes shared one commit
    s.saveReading({ valid: true, celsius: 20, ts: 1, sensor: 'sim' }, []);
    await nextTurn();
    expect(calls).toBe(1);
    s.saveDetection(detection('dup', 1), [msg(3)]);
    expect(calls).toBe(2); // an alert is committed (and synced) before saveDetection returns
    expect(s.saveDetection(detection('dup', 2), [msg(4)])).toBe(false); // primary key clash: rolled back
    await nextTurn();
    expect(calls).toBe(2);
    expect(s.outboxDepth()).toBe(3);
    unsubscribe();
    s.enqueue([msg(5)]);
    await nextTurn();
    expect(calls).toBe(2);
  });

  it('keeps small pieces of state across a reopen, the last value of a key winning, and survives a damaged one', async () => {
    const log = captureLog();
    let s = open({ logger: log.logger });
    expect(s.loadState('temperature_alerts')).toBeNull();
    expect(s.saveState('temperature_alerts', { state: 'high', high_c: 25, low_c: null })).toBe(true);
    expect(s.saveState('temperature_alerts', { state: 'normal', high_c: 25, low_c: null })).toBe(true);
    await nextTurn();
    s.close();
    s = open({ logger: log.logger });
    expect(s.loadState('temperature_alerts')).toEqual({ state: 'normal', high_c: 25, low_c: null });
    s.close();
    const raw = new Database(join(dir, 'edge.db'));
    raw.prepare("UPDATE agent_state SET value = '{not json' WHERE key = 'temperature_alerts'").run();
    raw.close();
    s = open({ logger: log.logger });
    expect(s.loadState('temperature_alerts')).toBeNull();
    expect(log.matching(/the saved temperature_alerts state is not JSON; starting without it/)).toHaveLength(1);
  });

  it('creates the database folder, and close() is idempotent and leaves no WAL behind', () => {
    const s = open({}, 'nested/deeper/edge.db');
    s.enqueue([msg(1)]);
    s.close();
    s.close();
    expect(existsSync(join(dir, 'nested/deeper/edge.db'))).toBe(true);
    expect(existsSync(join(dir, 'nested/deeper/edge.db-wal'))).toBe(false);
  });

  it('sync() fsyncs the WAL in the background once something was committed (group commit), and an alert before saveDetection returns', async () => {
    const files = watchedSyncs();
    const s = open({ fileSyncer: files });
    s.sync();
    expect(files.calls).toEqual([]); // nothing committed yet: nothing to sync
    s.enqueue([msg(1), msg(2)]);
    await nextTurn();
    s.sync();
    s.sync(); // nothing new since: no second fsync
    await expect.poll(() => files.calls.length).toBe(1);
    expect(files.calls[0]).toEqual({ path: join(dir, 'edge.db-wal'), now: false, committedRows: 2 });
    s.saveDetection(detection('d1', 1), [msg(3, 'edge/dev/alerts/intruder')]);
    // Synchronously, and only after the commit: the alert itself is in what was synced.
    expect(files.calls[1]).toEqual({ path: join(dir, 'edge.db-wal'), now: true, committedRows: 3 });
  });

  it('logs an fsync that failed (I/O error) with its meaning, keeps working, and tries again at the next sync', async () => {
    const log = captureLog();
    const files = watchedSyncs({ failures: 1 });
    const s = open({ logger: log.logger, fileSyncer: files });
    s.enqueue([msg(1)]);
    await nextTurn();
    s.sync();
    await expect.poll(() => log.matching(/could not sync the database to disk: SQLITE_IOERR_FSYNC: an I\/O error/).length).toBe(1);
    expect(s.health()).toMatchObject({ state: 'down', write_errors: 1 });
    s.sync(); // still owed, though nothing new was committed
    await expect.poll(() => files.calls.length).toBe(2);
    expect(s.saveReading({ valid: true, celsius: 20, ts: 1, sensor: 'sim' }, [msg(2)])).toBe(true);
    expect(s.health()).toMatchObject({ state: 'ok', outbox_depth: 2 });
  });
});

describe('StoreMaintenance', () => {
  afterEach(() => vi.useRealTimers());

  it('prunes at start, syncs every interval while something is written, and stops its timers', async () => {
    // The schedule runs on a fake clock; the fsyncs themselves are real file system calls.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const now = 100 * DAY;
    const files = watchedSyncs();
    const s = open({ clock: () => now, fileSyncer: files });
    s.saveReading({ valid: true, celsius: 19, ts: now - 31 * DAY, sensor: 'sim' }, []);
    s.saveReading({ valid: true, celsius: 20, ts: now, sensor: 'sim' }, []);
    const log = captureLog();
    const maintenance = new StoreMaintenance({ store: s, logger: log.logger, syncIntervalMs: 20 });
    await maintenance.start();
    expect(s.validReadingsSince(0)).toEqual([{ ts: now, celsius: 20 }]);
    expect(log.matching(/removed records older than the retention period/)).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(20);
    await expect.poll(() => files.calls.length).toBe(1); // the two readings written before
    s.enqueue([msg(1)]);
    await vi.advanceTimersByTimeAsync(20);
    await expect.poll(() => files.calls.length).toBe(2);
    await expect.poll(files.finished).toBe(2);
    await vi.advanceTimersByTimeAsync(100);
    expect(files.calls).toHaveLength(2); // idle: no fsync every interval
    expect(maintenance.health()).toMatchObject({ state: 'ok', outbox_depth: 1 });
    await maintenance.stop();
  });
});
