/**
 * The store answers the relay's pendingOutbox() from memory for just-committed rows (RecentOutbox).
 * SQLite stays the truth: whatever the sequence of enqueues, deletes (in or out of order), cap drops
 * and reopens, pendingOutbox() must return exactly what a separate connection reads from the file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../agent/log.js';
import { SqliteStore, type OutboxRow } from '../../agent/store.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'edge-outbox-memory-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

type Op =
  | { kind: 'enqueue'; count: number; buffer: boolean }
  | { kind: 'ack'; take: number; reversed: boolean; skipEveryOther: boolean }
  | { kind: 'read'; afterPick: number; limit: number }
  | { kind: 'reopen' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('enqueue' as const), count: fc.integer({ min: 0, max: 40 }), buffer: fc.boolean() }),
  fc.record({ kind: fc.constant('ack' as const), take: fc.integer({ min: 1, max: 30 }), reversed: fc.boolean(), skipEveryOther: fc.boolean() }),
  fc.record({ kind: fc.constant('read' as const), afterPick: fc.nat(), limit: fc.integer({ min: 1, max: 120 }) }),
  fc.constant({ kind: 'reopen' as const }),
);

/** The outbox as a second connection reads it from the file. */
function fromFile(path: string, afterId: number, limit: number): OutboxRow[] {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.prepare('SELECT id, topic, payload, retain, created_at FROM outbox WHERE id > ? ORDER BY id LIMIT ?').all(afterId, limit) as OutboxRow[];
    return rows.map((r) => ({ ...r, retain: (r.retain as unknown) === 1 }));
  } finally {
    db.close();
  }
}

function comparable(rows: OutboxRow[]): unknown[] {
  return rows.map((r) => ({ ...r, payload: Buffer.isBuffer(r.payload) ? r.payload.toString('hex') : r.payload }));
}

describe('pendingOutbox from memory', () => {
  it('always returns what SQLite holds, through enqueues, acknowledgements in any order, the cap and reopens', () => {
    let run = 0;
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), fc.integer({ min: 5, max: 200 }), (ops, maxRows) => {
        const path = join(dir, `p${run++}.db`);
        const open = () => SqliteStore.open(path, { logger: silentLogger(), config: { max_outbox_rows: maxRows, retention_days: 30 }, clock: () => 1_000 });
        let store = open();
        let seq = 0;
        try {
          for (const o of ops) {
            if (o.kind === 'enqueue') {
              const messages = Array.from({ length: o.count }, () => {
                const n = seq++;
                return { topic: `t/${n % 3}`, payload: o.buffer ? Buffer.from([n & 255, 7]) : `{"n":${n}}`, retain: n % 5 === 0 };
              });
              store.enqueue(messages);
            } else if (o.kind === 'ack') {
              let ids = store.pendingOutbox(o.take).map((r) => r.id);
              if (o.skipEveryOther) ids = ids.filter((_, i) => i % 2 === 0);
              if (o.reversed) ids.reverse();
              expect(store.deleteOutbox(ids)).toBe(true);
            } else if (o.kind === 'read') {
              const all = fromFile(path, 0, 1_000_000);
              const afterId = all.length === 0 ? 0 : all[o.afterPick % all.length]!.id - (o.afterPick % 2);
              expect(comparable(store.pendingOutbox(o.limit, afterId))).toEqual(comparable(fromFile(path, afterId, o.limit)));
            } else {
              store.close();
              store = open();
            }
            expect(comparable(store.pendingOutbox(1_000_000))).toEqual(comparable(fromFile(path, 0, 1_000_000)));
            expect(store.outboxDepth()).toBe(fromFile(path, 0, 1_000_000).length);
          }
        } finally {
          store.close();
        }
      }),
      { numRuns: 60, seed: 5 },
    );
  });

  it('gives the relay its own Buffer: changing the caller\'s after enqueue changes nothing that is sent', () => {
    const store = SqliteStore.open(join(dir, 'edge.db'), { logger: silentLogger(), config: { max_outbox_rows: 100, retention_days: 30 } });
    const payload = Buffer.from('abc');
    store.enqueue([{ topic: 't', payload }]);
    payload.write('xyz');
    expect(String(store.pendingOutbox(1)[0]!.payload)).toBe('abc');
    store.close();
  });
});

describe('page size', () => {
  it('creates new databases with 1 KB pages and keeps opening a database made with 4 KB pages', () => {
    const store = SqliteStore.open(join(dir, 'new.db'), { logger: silentLogger(), config: { max_outbox_rows: 100, retention_days: 30 } });
    store.close();
    const created = new Database(join(dir, 'new.db'), { readonly: true });
    expect(created.pragma('page_size', { simple: true })).toBe(1024);
    created.close();

    const old = new Database(join(dir, 'old.db'));
    old.pragma('page_size = 4096');
    old.pragma('journal_mode = WAL');
    old.close();
    const reopened = SqliteStore.open(join(dir, 'old.db'), { logger: silentLogger(), config: { max_outbox_rows: 100, retention_days: 30 } });
    expect(reopened.enqueue([{ topic: 't', payload: 'x' }])).toBe(true);
    expect(reopened.pendingOutbox(10).map((r) => r.payload)).toEqual(['x']);
    reopened.close();
    const check = new Database(join(dir, 'old.db'), { readonly: true });
    expect(check.pragma('page_size', { simple: true })).toBe(4096);
    check.close();
  });
});
