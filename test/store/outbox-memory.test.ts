/**
 * The store answers the relay's pendingOutbox() from memory for just-committed rows (OutboxWindow, agent/store/outbox-window.ts).
 * SQLite stays the truth: whatever the sequence of enqueues, deletes (in or out of order), cap drops
 * and reopens, grouped into jobs whose writes share one commit (JobBatch), pendingOutbox() must return
 * exactly what a separate connection reads from the file once each job has ended.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../agent/lib/log.js';
import { SqliteStore } from '../../agent/store/store.js';
import type { OutboxRow } from '../../agent/store/types.js';
import { nextTurn } from '../helpers/turn.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'edge-outbox-memory-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

type Op = { kind: 'enqueue'; count: number; buffer: boolean } | { kind: 'ack'; take: number; reversed: boolean; skipEveryOther: boolean } | { kind: 'reopen' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('enqueue' as const), count: fc.integer({ min: 0, max: 40 }), buffer: fc.boolean() }),
  fc.record({ kind: fc.constant('ack' as const), take: fc.integer({ min: 1, max: 30 }), reversed: fc.boolean(), skipEveryOther: fc.boolean() }),
  fc.constant({ kind: 'reopen' as const }),
);

/** Operations run back to back in one job, then a read at a random position once the job has ended. */
const job = fc.record({ ops: fc.array(op, { minLength: 1, maxLength: 4 }), afterPick: fc.nat(), limit: fc.integer({ min: 1, max: 120 }) });

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
  it('always returns what SQLite holds, through enqueues, acknowledgements in any order, the cap and reopens', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(job, { minLength: 1, maxLength: 15 }), fc.integer({ min: 5, max: 200 }), async (jobs, maxRows) => {
        const path = join(dir, `p${run++}.db`);
        const open = () => SqliteStore.open(path, { logger: silentLogger(), config: { max_outbox_rows: maxRows, retention_days: 30 }, clock: () => 1_000 });
        let store = open();
        let seq = 0;
        try {
          for (const { ops, afterPick, limit } of jobs) {
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
              } else {
                store.close();
                store = open();
              }
            }
            await nextTurn();
            const all = fromFile(path, 0, 1_000_000);
            const afterId = all.length === 0 ? 0 : all[afterPick % all.length]!.id - (afterPick % 2);
            expect(comparable(store.pendingOutbox(limit, afterId))).toEqual(comparable(fromFile(path, afterId, limit)));
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

  it('gives the relay its own Buffer: changing the caller\'s after enqueue changes nothing that is sent', async () => {
    const store = SqliteStore.open(join(dir, 'edge.db'), { logger: silentLogger(), config: { max_outbox_rows: 100, retention_days: 30 } });
    const payload = Buffer.from('abc');
    store.enqueue([{ topic: 't', payload }]);
    payload.write('xyz');
    await nextTurn();
    expect(String(store.pendingOutbox(1)[0]!.payload)).toBe('abc');
    store.close();
  });
});

describe('page size', () => {
  it('creates new databases with 1 KB pages and keeps opening a database made with 4 KB pages', async () => {
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
    await nextTurn();
    expect(reopened.pendingOutbox(10).map((r) => r.payload)).toEqual(['x']);
    reopened.close();
    const check = new Database(join(dir, 'old.db'), { readonly: true });
    expect(check.pragma('page_size', { simple: true })).toBe(4096);
    check.close();
  });
});
