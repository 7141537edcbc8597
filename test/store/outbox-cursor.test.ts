import { describe, expect, it } from 'vitest';
import { OutboxCursor, type OutboxSource } from '../../agent/store/outbox-cursor.js';
import type { OutboxRow } from '../../agent/store/types.js';

/** An outbox of `n` rows with ids 1..n that counts the reads it answers. */
function outbox(n: number): OutboxSource & { reads: number } {
  const rows: OutboxRow[] = Array.from({ length: n }, (_, i) => ({ id: i + 1, topic: 't', payload: String(i + 1), retain: false, created_at: 0 }));
  const source = {
    reads: 0,
    pendingOutbox(limit: number, afterId = 0): OutboxRow[] {
      source.reads += 1;
      return rows.filter((r) => r.id > afterId).slice(0, limit);
    },
  };
  return source;
}

const ids = (rows: OutboxRow[]) => rows.map((r) => r.id);

describe('OutboxCursor', () => {
  it('reads the store a chunk at a time while handing out a few rows per call', () => {
    const source = outbox(25);
    const cursor = new OutboxCursor(source, 10);
    const sent: number[] = [];
    for (;;) {
      const rows = cursor.peek(3);
      if (rows.length === 0) break;
      sent.push(...ids(rows));
      cursor.take(rows.length);
    }
    expect(sent).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(source.reads).toBe(4); // 10 + 10 + 5 rows, then an empty read
  });

  it('offers rows that were peeked but not taken again (a publish rate let only some go)', () => {
    const cursor = new OutboxCursor(outbox(10), 5);
    expect(ids(cursor.peek(4))).toEqual([1, 2, 3, 4]);
    cursor.take(1);
    expect(ids(cursor.peek(4))).toEqual([2, 3, 4, 5]);
    cursor.take(4);
    expect(ids(cursor.peek(4))).toEqual([6, 7, 8, 9]); // the next chunk, read after the last taken row
  });

  it('starts again from the oldest row after rewind() (a new connection sends everything unacknowledged again)', () => {
    const cursor = new OutboxCursor(outbox(6), 4);
    cursor.take(cursor.peek(3).length);
    cursor.rewind();
    expect(ids(cursor.peek(2))).toEqual([1, 2]);
  });
});
