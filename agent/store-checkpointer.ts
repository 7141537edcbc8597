/**
 * The group commit's checkpoint, on a worker thread. A PASSIVE checkpoint fsyncs the WAL and then the
 * database; better-sqlite3 is synchronous, so on the agent's thread those fsyncs stalled everything else
 * (the relay, MQTT keep-alives, HTTP) once a second. The worker has its own connection to the same file
 * and runs the checkpoint there while the agent keeps committing (WAL lets a checkpoint and a writer run
 * at once).
 *
 * The worker is a small JS string (`eval: true`) that requires better-sqlite3 by its resolved absolute
 * path, so the same code runs from dist/ and under vitest (TypeScript sources). It starts at the first
 * request (a store that is opened and closed without a group commit, as in a migration or a test, costs
 * no thread: starting one takes ~50 ms), and is unref'd: it never keeps the process alive, even if a
 * caller forgets stop().
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { Database as Db } from 'better-sqlite3';
import type { Logger } from './log.js';
import { describeSqliteError } from './store-errors.js';

/** Runs in the worker. Replies to each 'checkpoint' with { ok } or { code, message }; 'close' closes the connection and signals it through `closed`. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const closed = new Int32Array(workerData.closed);
const Database = require(workerData.sqliteModule);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
parentPort.on('message', (request) => {
  if (request === 'close') {
    db.close();
    Atomics.store(closed, 0, 1);
    Atomics.notify(closed, 0);
    parentPort.close();
    return;
  }
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true });
  } catch (err) {
    parentPort.postMessage({ ok: false, code: err.code, message: err.message });
  }
});
`;

/** How long stop() waits for the worker to close its connection (the main connection's close deletes the WAL only if it is the last one). */
const CLOSE_WAIT_MS = 5_000;

/** How long checkpointNow() keeps retrying while another connection (the worker) is checkpointing. */
const BUSY_WAIT_MS = 5_000;
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/**
 * A FULL checkpoint on the calling thread, complete when it returns (an alert's durability depends on
 * it). While another connection (the worker) is checkpointing, SQLite reports busy at once without an
 * error and without waiting, even with a busy timeout; this retries 1 ms apart instead, and throws
 * SQLITE_BUSY if it stays blocked.
 */
export function checkpointNow(db: Db): void {
  const deadline = performance.now() + BUSY_WAIT_MS;
  for (;;) {
    const [result] = db.pragma('wal_checkpoint(FULL)') as { busy: number }[];
    if (result?.busy !== 1) return;
    if (performance.now() > deadline) throw Object.assign(new Error('the checkpoint stayed blocked by another connection'), { code: 'SQLITE_BUSY' });
    Atomics.wait(PAUSE, 0, 0, 1);
  }
}

type Reply = { ok: true } | { ok: false; code?: string; message: string };

export interface CheckpointerDeps {
  /** The database file (not `:memory:`: a second connection must reach the same data). */
  file: string;
  logger: Logger;
  /** Called when a checkpoint failed in the worker: the commits it covered are not durable yet, so the next sync must try again. */
  onFailure: (err: Error) => void;
  /** better-sqlite3's entry point, resolved from here by default; tests pass a broken one to kill the worker. */
  sqliteModule?: string;
}

export class Checkpointer {
  private worker: Worker | null = null;
  /** The worker died or was stopped: it is not started again, callers checkpoint inline. */
  private ended = false;
  private readonly closed = new Int32Array(new SharedArrayBuffer(4));
  /** A checkpoint was posted and has not answered yet. */
  private inFlight = false;
  /** A request arrived while one was in flight: commits after that one started still need a checkpoint. */
  private queued = false;

  constructor(private readonly deps: CheckpointerDeps) {}

  /** Asks the worker for a checkpoint (coalesced with one in flight). False when the worker died or was stopped. */
  request(): boolean {
    if (this.ended) return false;
    const worker = (this.worker ??= this.spawn());
    if (this.inFlight) {
      this.queued = true;
    } else {
      this.inFlight = true;
      worker.postMessage('checkpoint');
    }
    return true;
  }

  /**
   * Has the worker close its connection, and waits for it (synchronously: the store's close() is), so
   * that the caller's final checkpoint and close are the last ones and delete the WAL.
   */
  stop(): void {
    this.ended = true;
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    worker.postMessage('close');
    if (Atomics.wait(this.closed, 0, 0, CLOSE_WAIT_MS) === 'timed-out') {
      this.deps.logger.warn(`the checkpoint worker did not close within ${CLOSE_WAIT_MS} ms; stopping it`);
      void worker.terminate();
    }
  }

  private spawn(): Worker {
    const sqliteModule = this.deps.sqliteModule ?? createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file: this.deps.file, sqliteModule, closed: this.closed.buffer } });
    worker.unref();
    worker.on('message', (reply: Reply) => this.answered(reply));
    worker.on('error', (err) => {
      this.deps.logger.error({ err }, `the checkpoint worker failed, syncing on the main thread from now on: ${describeSqliteError(err)}`);
      this.died();
    });
    worker.on('exit', () => this.died());
    return worker;
  }

  private answered(reply: Reply): void {
    this.inFlight = false;
    if (!reply.ok) this.deps.onFailure(Object.assign(new Error(reply.message), { code: reply.code }));
    if (this.queued) {
      this.queued = false;
      this.request();
    }
  }

  private died(): void {
    if (this.worker && this.inFlight) this.deps.onFailure(new Error('the checkpoint worker exited during a checkpoint'));
    this.ended = true;
    this.worker = null;
    this.inFlight = false;
    this.queued = false;
  }
}
