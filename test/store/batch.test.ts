/**
 * Group commit within one JavaScript job (JobBatch): the writes of one synchronous run share one
 * commit, made before the job yields; nothing is visible to the relay or to another connection before
 * it; a failed write undoes only itself; a failed commit is reported with how many writes it took.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ForecastRecord, OutboxMessage } from '../../agent/store/types.js';
import { silentLogger } from '../../agent/lib/log.js';
import { JobBatch } from '../../agent/store/batch.js';
import { SqliteStore, type StoreDeps } from '../../agent/store/store.js';
import { captureLog } from '../helpers/log-capture.js';
import { nextTurn } from '../helpers/turn.js';

const msg = (n: number): OutboxMessage => ({ topic: 'edge/dev/telemetry/temperature', payload: JSON.stringify({ n }) });
const reading = (ts: number) => ({ valid: true as const, celsius: 20, ts, sensor: 'sim' });

let dir: string;
const opened: { close(): void }[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'edge-batch-'));
});
afterEach(() => {
  for (const handle of opened.splice(0)) handle.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(deps: Partial<StoreDeps> = {}): SqliteStore {
  const store = SqliteStore.open(join(dir, 'edge.db'), { logger: silentLogger(), config: { max_outbox_rows: 10_000, retention_days: 30 }, ...deps });
  opened.push(store);
  return store;
}

/** Counts rows as another process (`edge-agent doctor`, sqlite3) sees them. */
function countFromOutside(table: string): number {
  const db = new Database(join(dir, 'edge.db'), { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

const walBytes = () => statSync(join(dir, 'edge.db-wal')).size;

const forecast = (id: string): ForecastRecord => ({
  id,
  ts: 1,
  predicted_celsius: 21,
  horizon_s: 3600,
  from_ts: 0,
  to_ts: 1,
  n: 60,
  model: { name: 'temperature-forecast', version: '1' },
});

describe('SqliteStore: the writes of one job share one commit', () => {
  it('commits them when the job yields, and shows nothing to the relay or another connection before', async () => {
    const s = open();
    for (let i = 0; i < 3; i++) expect(s.saveReading(reading(i), [msg(i)])).toBe(true);
    expect(s.validReadingsSince(0)).toHaveLength(3); // the agent's own reads see them at once
    expect(s.pendingOutbox(10)).toEqual([]); // the relay does not: nothing is sent before it is stored
    expect(countFromOutside('readings')).toBe(0);
    await nextTurn();
    expect(countFromOutside('readings')).toBe(3);
    expect(countFromOutside('outbox')).toBe(3);
    expect(s.pendingOutbox(10).map((r) => JSON.parse(String(r.payload)) as unknown)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
  });

  it('writes a burst as one commit: a fraction of the WAL that a commit per write appends', async () => {
    const s = open();
    const before = walBytes();
    for (let i = 0; i < 100; i++) {
      s.saveReading(reading(i), [msg(i)]);
      await nextTurn(); // one write per job: one commit each
    }
    const oneByOne = walBytes() - before;
    const mark = walBytes();
    for (let i = 100; i < 200; i++) s.saveReading(reading(i), [msg(i)]);
    await nextTurn();
    const burst = walBytes() - mark;
    expect(countFromOutside('readings')).toBe(200);
    expect(burst).toBeLessThan(oneByOne / 10);
  });

  it('undoes a failed write alone: the others of its job are committed', async () => {
    const s = open();
    expect(s.saveForecast(forecast('f1'), [msg(1)])).toBe(true);
    expect(s.saveForecast(forecast('f1'), [msg(2)])).toBe(false); // the id is taken
    expect(s.saveReading(reading(3), [msg(3)])).toBe(true);
    expect(s.outboxDepth()).toBe(2);
    await nextTurn();
    expect(countFromOutside('forecasts')).toBe(1);
    expect(countFromOutside('readings')).toBe(1);
    expect(s.pendingOutbox(10).map((r) => JSON.parse(String(r.payload)) as unknown)).toEqual([{ n: 1 }, { n: 3 }]);
  });

  it('says how many writes a full disk took with it when SQLite rolls back the whole transaction, and keeps its view true', async () => {
    const log = captureLog();
    const s = open({ logger: log.logger, maxPageCount: 40 });
    for (let i = 0; i < 3; i++) expect(s.enqueue([msg(i)])).toBe(true);
    expect(s.enqueue([{ topic: 't', payload: 'x'.repeat(60_000) }])).toBe(false);
    await nextTurn();
    expect(log.matching(/^could not save the last 3 write\(s\), rolled back together: SQLITE_FULL/)).toHaveLength(1);
    expect(s.outboxDepth()).toBe(countFromOutside('outbox'));
    expect(s.pendingOutbox(10)).toHaveLength(countFromOutside('outbox'));
    expect(s.enqueue([msg(4)])).toBe(true);
    await nextTurn();
    expect(s.pendingOutbox(10).map((r) => JSON.parse(String(r.payload)) as unknown)).toContainEqual({ n: 4 });
  });
});

describe('JobBatch', () => {
  /** A table whose foreign key is checked at COMMIT: the way to make a commit itself fail. */
  function database(): Database.Database {
    const db = new Database(join(dir, 'fk.db'));
    opened.push(db);
    db.pragma('foreign_keys = ON');
    db.exec(`CREATE TABLE parent (id INTEGER PRIMARY KEY);
      CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);`);
    return db;
  }

  it('runs the callbacks of its writes after the commit, in order, then `committed` once', async () => {
    const db = database();
    const events: string[] = [];
    const batch = new JobBatch(db, { committed: () => events.push('committed'), lost: () => events.push('lost') });
    batch.add(() => db.prepare('INSERT INTO parent (id) VALUES (1)').run(), () => events.push('first'));
    batch.add(() => db.prepare('INSERT INTO parent (id) VALUES (2)').run(), () => events.push('second'));
    expect(db.inTransaction).toBe(true);
    expect(events).toEqual([]);
    await Promise.resolve(); // a microtask: committed before the job yields to the event loop
    expect(events).toEqual(['first', 'second', 'committed']);
    expect(db.inTransaction).toBe(false);
  });

  it('reports a failed commit with the number of writes lost, rolls back, and takes new writes', async () => {
    const db = database();
    const lost: { writes: number; code: unknown }[] = [];
    let committed = 0;
    const batch = new JobBatch(db, { committed: () => committed++, lost: (err, writes) => lost.push({ writes, code: (err as { code?: unknown }).code }) });
    batch.add(() => db.prepare('INSERT INTO parent (id) VALUES (1)').run(), () => expect.fail('not committed'));
    batch.add(() => db.prepare('INSERT INTO child (id, parent) VALUES (1, 99)').run()); // no parent 99: fails at COMMIT
    expect(batch.commit()).toBe(false);
    expect(lost).toEqual([{ writes: 2, code: 'SQLITE_CONSTRAINT_FOREIGNKEY' }]);
    expect(db.inTransaction).toBe(false);
    expect((db.prepare('SELECT count(*) AS n FROM parent').get() as { n: number }).n).toBe(0);
    batch.add(() => db.prepare('INSERT INTO parent (id) VALUES (2)').run());
    await nextTurn();
    expect(committed).toBe(1);
    expect((db.prepare('SELECT count(*) AS n FROM parent').get() as { n: number }).n).toBe(1);
  });
});
