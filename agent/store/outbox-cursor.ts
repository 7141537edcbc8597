/**
 * The relay's read position in the outbox: the rows after the last one it published on this
 * connection, read from the store a chunk at a time. While a backlog drains (after an outage, or while
 * writes outpace the broker) the window frees a few slots per burst of PUBACKs; asking SQLite for just
 * those few rows each time cost a query per handful of messages (a tenth of the relay's CPU in
 * `npm run bench:outbox`). A chunk read ahead may still hold a row that the outbox cap dropped since:
 * it is published once all the same.
 */
import type { OutboxRow } from './types.js';

export interface OutboxSource {
  pendingOutbox(limit: number, afterId?: number): OutboxRow[];
}

export class OutboxCursor {
  private rows: OutboxRow[] = [];
  private next = 0;
  private position = 0;

  constructor(
    private readonly source: OutboxSource,
    private readonly chunkRows: number,
  ) {}

  /** Up to `limit` rows after the position, oldest first; they stay there until take(). */
  peek(limit: number): OutboxRow[] {
    if (this.next >= this.rows.length) {
      this.rows = this.source.pendingOutbox(Math.max(limit, this.chunkRows), this.position);
      this.next = 0;
    }
    return this.rows.slice(this.next, this.next + limit);
  }

  /** Moves the position past the first `count` rows of the last peek(). */
  take(count: number): void {
    if (count === 0) return;
    this.next += count;
    this.position = this.rows[this.next - 1]!.id;
  }

  /** Back to the oldest row (a new connection sends every unacknowledged row again). */
  rewind(): void {
    this.rows = [];
    this.next = 0;
    this.position = 0;
  }
}
