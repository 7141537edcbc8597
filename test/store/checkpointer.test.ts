import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkpointNow } from '../../agent/store-checkpointer.js';

/** Another connection, on its own thread, that reads from a snapshot and keeps it for `holdMs`. */
const READER = `
const { parentPort, workerData } = require('node:worker_threads');
const db = new (require(workerData.sqliteModule))(workerData.file);
db.prepare('BEGIN').run();
db.prepare('SELECT count(*) FROM t').get();
parentPort.postMessage('holding');
setTimeout(() => { db.prepare('COMMIT').run(); db.close(); }, workerData.holdMs);
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'edge-checkpoint-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('checkpointNow', () => {
  it('does not return while another connection blocks the checkpoint (SQLite only reports busy), and then completes it', async () => {
    const file = join(dir, 'edge.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 0'); // SQLite gives up at once: the retrying is checkpointNow's own
    db.exec('CREATE TABLE t (n INTEGER)');
    db.prepare('INSERT INTO t VALUES (1)').run();
    const reader = new Worker(READER, { eval: true, workerData: { file, holdMs: 150, sqliteModule: createRequire(import.meta.url).resolve('better-sqlite3') } });
    const exited = new Promise((resolve) => reader.once('exit', resolve));
    await new Promise((resolve) => reader.once('message', resolve));
    db.prepare('INSERT INTO t VALUES (2)').run(); // newer than the reader's snapshot
    expect((db.pragma('wal_checkpoint(FULL)') as { busy: number }[])[0]!.busy).toBe(1);
    const t0 = performance.now();
    checkpointNow(db);
    expect(performance.now() - t0).toBeGreaterThan(50);
    // Both rows are in the database file itself: what survives a power cut even if the WAL is lost.
    copyFileSync(file, join(dir, 'copy.db'));
    const copy = new Database(join(dir, 'copy.db'), { readonly: true });
    expect(copy.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 2 });
    copy.close();
    db.close();
    await exited;
  });
});
