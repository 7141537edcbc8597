/**
 * The newest committed outbox rows, kept in memory so the relay does not read back from SQLite what
 * the store has just written (a SELECT, a row object and a payload copy per message). SQLite stays the
 * truth: this only answers when it holds every row the relay asks for, and the store falls back to
 * SQLite otherwise (at start, after a reconnect resets the relay's cursor, after an outage longer than
 * this window).
 *
 * Outbox ids are contiguous (the store assigns them from a counter and only after a commit), so the
 * window is an array indexed by `head + id - firstId`; deleted (acknowledged) rows become holes, and
 * leading holes are trimmed by moving `head` (an O(1) step: trimming with `splice` after every PUBACK
 * cost 6% of the relay's CPU), with the array compacted once the dead prefix outweighs the live rows.
 * Bounded by rows and by payload bytes: the oldest rows are evicted first.
 *
 * The cap (`max_outbox_rows`) deletes the oldest rows in SQLite. Keeping at most `max_outbox_rows`
 * rows here means those never include a row held here: every row newer than a held row is held too.
 */
import type { OutboxRow } from './types.js';

export class OutboxWindow {
  private rows: (OutboxRow | undefined)[] = [];
  /** Index in `rows` of the row with id `firstId`; the slots before it are dead. */
  private head = 0;
  private bytes = 0;

  /** `firstId`: the id the next committed row will get. */
  constructor(
    private readonly maxRows: number,
    private readonly maxBytes: number,
    private firstId: number,
  ) {}

  private get size(): number {
    return this.rows.length - this.head;
  }

  /** Adds just-committed rows; their ids follow the last held one (or the window restarts at them). */
  append(rows: readonly OutboxRow[]): void {
    if (rows.length === 0) return;
    const first = rows[0]!.id;
    if (this.firstId + this.size !== first) this.reset(first);
    for (const row of rows) {
      this.rows.push(row);
      this.bytes += payloadBytes(row);
    }
    let evict = 0;
    while (evict < this.size && (this.size - evict > this.maxRows || this.bytes > this.maxBytes)) {
      const row = this.rows[this.head + evict++];
      if (row) this.bytes -= payloadBytes(row);
    }
    this.dropFirst(evict);
  }

  /**
   * Rows with `id > afterId`, oldest first, at most `limit`; null when rows after `afterId` may exist
   * that are no longer (or never were) held here, so SQLite has to answer. `nextId` is the id the next
   * committed row will get.
   */
  after(afterId: number, limit: number, nextId: number): OutboxRow[] | null {
    if (afterId + 1 >= nextId) return [];
    // Held rows must reach the newest one, and start no later than the first one asked for.
    if (this.firstId + this.size !== nextId || afterId + 1 < this.firstId) return null;
    const out: OutboxRow[] = [];
    for (let i = this.head + afterId + 1 - this.firstId; i < this.rows.length && out.length < limit; i++) {
      const row = this.rows[i];
      if (row) out.push(row);
    }
    return out;
  }

  /** Forgets rows deleted from SQLite. */
  delete(ids: readonly number[]): void {
    for (const id of ids) {
      const i = id - this.firstId;
      const row = i >= 0 && i < this.size ? this.rows[this.head + i] : undefined;
      if (!row) continue;
      this.rows[this.head + i] = undefined;
      this.bytes -= payloadBytes(row);
    }
    let holes = 0;
    while (holes < this.size && this.rows[this.head + holes] === undefined) holes++;
    this.dropFirst(holes);
  }

  /** Holds nothing; the next row to be committed will have id `firstId`. */
  reset(firstId: number): void {
    this.rows = [];
    this.head = 0;
    this.firstId = firstId;
    this.bytes = 0;
  }

  private dropFirst(count: number): void {
    if (count === 0) return;
    this.head += count;
    this.firstId += count;
    if (this.head >= 1024 && this.head >= this.size) {
      this.rows = this.rows.slice(this.head);
      this.head = 0;
    }
  }
}

function payloadBytes(row: OutboxRow): number {
  // String length, not its UTF-8 size: a bound on memory, not an exact count, and O(1).
  return row.payload.length;
}
