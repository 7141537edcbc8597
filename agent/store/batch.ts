/**
 * Group commit within one JavaScript job. A SQLite commit costs ~50 µs here (about fifteen system
 * calls: WAL frame writes and file locks), ten times the inserts it commits; a burst of writes made one
 * after another in the same synchronous run of code (a slice of a replay, a detection with its
 * messages, PUBACK deletions) shares one commit instead.
 *
 * The first write of a job opens the transaction (BEGIN) and queues its COMMIT as a microtask, so the
 * commit runs before the job hands control back to the event loop: no I/O callback, no timer, no
 * publish and no HTTP answer can come between a write and its commit. Each write runs in a savepoint
 * of it, so a write that fails undoes only its own changes. What a crash (kill -9) can lose is only
 * what was written in the synchronous run it interrupted: work nobody has seen yet, as if the crash had
 * come a moment earlier. Rows become visible to the relay only after the commit (the store's
 * `onCommit` callbacks), so nothing is ever sent that is not stored.
 *
 * A commit that fails (disk full, I/O error) is rolled back as a whole: every write of the batch is
 * lost, and `onLost` says so; the callers were already told their write was accepted.
 */
import type { Database as Db, Statement } from 'better-sqlite3';

export interface JobBatchHooks {
  /** After every successful commit, once the per-write callbacks ran. */
  committed(): void;
  /**
   * The open batch was rolled back (its commit failed, or SQLite abandoned the transaction after a
   * write failed): `writes` earlier writes are gone too. Not called when the failed write was alone.
   */
  lost(err: unknown, writes: number): void;
}

export class JobBatch {
  private open = false;
  /** Writes in the open batch. */
  private writes = 0;
  private onCommit: (() => void)[] = [];
  private readonly begin: Statement;
  private readonly commitStatement: Statement;
  private readonly rollback: Statement;
  /** Runs a function in a savepoint when a transaction is open (better-sqlite3 nests them so). */
  private readonly savepoint: (fn: () => void) => void;

  constructor(
    private readonly db: Db,
    private readonly hooks: JobBatchHooks,
  ) {
    this.begin = db.prepare('BEGIN');
    this.commitStatement = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    this.savepoint = db.transaction((fn: () => void) => fn()) as unknown as (fn: () => void) => void;
  }

  /**
   * Runs `write` atomically in this job's transaction (opening it if needed), and `onCommit` once that
   * transaction is committed. Throws what `write` throws, with only its own changes undone.
   */
  add(write: () => void, onCommit?: () => void): void {
    if (!this.open) {
      this.begin.run();
      this.open = true;
      queueMicrotask(() => this.commit());
    }
    try {
      this.savepoint(write);
    } catch (err) {
      // Some errors (SQLITE_FULL, SQLITE_IOERR) make SQLite roll back the whole transaction, not just the savepoint.
      if (!this.db.inTransaction) this.abandon(err);
      throw err;
    }
    this.writes += 1;
    if (onCommit) this.onCommit.push(onCommit);
  }

  /** Commits the open batch now (before a checkpoint, a close, or an alert that must be durable). False if it failed. */
  commit(): boolean {
    if (!this.open) return true;
    try {
      this.commitStatement.run();
    } catch (err) {
      if (this.db.inTransaction) this.rollback.run();
      this.abandon(err);
      return false;
    }
    const callbacks = this.onCommit;
    this.reset();
    for (const callback of callbacks) callback();
    this.hooks.committed();
    return true;
  }

  private abandon(err: unknown): void {
    const writes = this.writes;
    this.reset();
    if (writes > 0) this.hooks.lost(err, writes);
  }

  private reset(): void {
    this.open = false;
    this.writes = 0;
    this.onCommit = [];
  }
}
