/**
 * The outbox: the messages waiting for the broker, in the same SQLite database as the records they
 * announce. It owns the protocol between the store (which writes rows in the same transaction as their
 * record) and the relay (which publishes them and deletes each one only on PUBACK):
 *
 * - ids: assigned from a counter that only grows while the process runs, even after the newest rows were
 *   delivered and deleted (SQLite would reuse those rowids): the relay's "sent up to id N" cursor relies on it;
 * - visibility: rows reach the relay only once committed (`committedNextId`), newest ones from memory
 *   (OutboxWindow) so the relay does not read back what was just written;
 * - pending / ack / depth, the cap (`max_outbox_rows`, oldest dropped first and counted), and payloads over
 *   the broker's limit refused at enqueue time;
 * - the enqueue signal: listeners (the relay) are woken after each commit that added rows.
 */
import type { Logger } from '../lib/log.js';
import type { EventBus } from '../runtime/event-bus.js';
import type { JobBatch } from './batch.js';
import { OutboxWindow } from './outbox-window.js';
import { contiguousRange, type Row, type Statements } from './queries.js';
import type { OutboxMessage, OutboxRow } from './types.js';
import type { WriteGuard } from './write-guard.js';

/** Rows prepared for one write: inserted with its record, made visible when that commits. */
export interface StagedRows {
  rows: OutboxRow[];
  /** Every message was accepted (none refused for its size). */
  complete: boolean;
  /** Oldest rows the cap dropped to make room (known once inserted). */
  dropped: number;
}

export interface OutboxDeps {
  stmt: Statements;
  batch: JobBatch;
  guard: WriteGuard;
  maxRows: number;
  /** Payloads larger than this are refused at enqueue time (AWS IoT Core: 128 KB); null = no limit. */
  maxPayloadBytes: number | null;
  logger: Logger;
  bus?: EventBus;
}


/** Just-committed outbox rows kept in memory for the relay (OutboxWindow): about a second of a busy burst. */
const WINDOW_ROWS = 4_096;
const WINDOW_BYTES = 4 * 1024 * 1024;

export class Outbox {
  private depth: number;
  private nextId: number;
  /** Rows with a lower id are committed: the relay sees nothing above it. */
  private committedNextId: number;
  /** The batch being committed added rows: the relay is woken after the commit. */
  private addedInBatch = false;
  private readonly window: OutboxWindow;
  private dropped = 0;
  private refused = 0;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly deps: OutboxDeps) {
    const size = deps.stmt.outboxSize.get() as { n: number; max: number | null };
    this.depth = size.n;
    this.nextId = (size.max ?? 0) + 1;
    this.committedNextId = this.nextId;
    this.window = new OutboxWindow(Math.min(WINDOW_ROWS, deps.maxRows), WINDOW_BYTES, this.nextId);
  }

  /** Rows for `messages` (a Buffer payload copied: the caller may reuse its own), with the ids they will get. */
  stage(messages: OutboxMessage[], now: number): StagedRows {
    const accepted = messages.filter((m) => this.acceptable(m));
    const rows = accepted.map((m, i): OutboxRow => {
      const payload = typeof m.payload === 'string' ? m.payload : Buffer.from(m.payload);
      return { id: this.nextId + i, topic: m.topic, payload, retain: m.retain === true, created_at: now };
    });
    return { rows, complete: accepted.length === messages.length, dropped: 0 };
  }

  /** Inserts staged rows and enforces the cap; runs inside the write's savepoint. */
  insert(staged: StagedRows): void {
    for (const r of staged.rows) this.deps.stmt.insertOutbox.run(r.id, r.topic, r.payload, r.retain ? 1 : 0, r.created_at);
    const excess = this.depth + staged.rows.length - this.deps.maxRows;
    staged.dropped = excess > 0 ? this.deps.stmt.dropOldestOutbox.run(excess).changes : 0;
  }

  /** The write holding `staged` succeeded (it commits with the job): its ids are taken. */
  accept(staged: StagedRows): void {
    this.nextId += staged.rows.length;
    this.depth += staged.rows.length - staged.dropped;
    if (staged.dropped > 0) this.noteDropped(staged.dropped);
  }

  /** `staged` was committed: its rows become visible to the relay. */
  committed(staged: StagedRows): void {
    const { rows } = staged;
    if (rows.length === 0) return;
    this.window.append(rows);
    this.committedNextId = rows[rows.length - 1]!.id + 1;
    this.addedInBatch = true;
  }

  /** A batch committed: the listeners are woken if it added rows. */
  batchCommitted(): void {
    if (!this.addedInBatch) return;
    this.addedInBatch = false;
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (err) {
        this.deps.logger.error({ err }, 'outbox listener failed');
      }
    }
  }

  /**
   * A batch was rolled back: its rows are gone, and rows it had deleted are back. The memory window and
   * the depth are rebuilt from SQLite; acknowledged rows that came back go again on the next connection
   * (at least once).
   */
  batchLost(): void {
    this.addedInBatch = false;
    this.window.reset(this.nextId);
    try {
      this.depth = (this.deps.stmt.outboxSize.get() as { n: number }).n;
    } catch (err) {
      this.deps.logger.warn({ err }, 'could not count the outbox after a rollback');
    }
  }

  /** Rows with `id > afterId`, oldest first: what the relay publishes next. Treat them as read-only. */
  pending(limit: number, afterId = 0): OutboxRow[] {
    const held = this.window.after(afterId, limit, this.committedNextId);
    if (held) return held;
    return (this.deps.stmt.pendingOutbox.all(afterId, this.committedNextId, limit) as Row[]).map((r) => ({
      id: r.id as number,
      topic: r.topic as string,
      payload: r.payload as string | Buffer,
      retain: r.retain === 1,
      created_at: r.created_at as number,
    }));
  }

  /** Deletes acknowledged rows (ids already dropped by the cap are ignored). False if the write failed. */
  acknowledge(ids: readonly number[]): boolean {
    if (ids.length === 0) return true;
    const range = contiguousRange(ids);
    const { stmt, batch, guard } = this.deps;
    const ok = guard.run('delete acknowledged messages', () =>
      batch.add(() => {
        const { changes } = range ? stmt.deleteOutboxRange.run(range[0], range[1]) : stmt.deleteOutbox.run(JSON.stringify(ids));
        this.depth -= changes;
      }),
    );
    if (ok) this.window.delete(ids);
    return ok;
  }

  size(): number {
    return this.depth;
  }

  stats(): { outbox_depth: number; outbox_dropped: number; refused: number } {
    return { outbox_depth: this.depth, outbox_dropped: this.dropped, refused: this.refused };
  }

  /** Called after every commit that added rows (the relay wakes up). Returns an unsubscribe function. */
  onEnqueue(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.listeners.clear();
  }

  private acceptable(message: OutboxMessage): boolean {
    const limit = this.deps.maxPayloadBytes;
    if (limit === null) return true;
    const size = typeof message.payload === 'string' ? Buffer.byteLength(message.payload) : message.payload.length;
    if (size <= limit) return true;
    this.refused += 1;
    this.deps.logger.error(
      { topic: message.topic, bytes: size, limit },
      `message to ${message.topic} refused: its payload is ${size} bytes, over the broker's limit of ${limit} bytes`,
    );
    return false;
  }

  private noteDropped(count: number): void {
    this.dropped += count;
    this.deps.logger.warn(
      { dropped: count, total_dropped: this.dropped, max_outbox_rows: this.deps.maxRows },
      `outbox full: dropped the ${count} oldest undelivered message(s)`,
    );
    this.deps.bus?.emit('outbox.dropped', { count });
  }
}
