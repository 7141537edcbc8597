/**
 * A database that an SD card or a power cut damaged must neither stop the agent nor vanish. At start the
 * file gets SQLite's quick check; one that fails it, or that is not a database at all, is moved aside as
 * `<name>.corrupt-<UTC time>` (with its WAL, never deleted: it is evidence, and `sqlite3 .recover` may get
 * more out of it later), the agent starts a fresh database, and the undelivered messages that can still be
 * read are copied into it, so what the owner was owed still reaches the broker. AWS Greengrass's spooler
 * deletes a corrupt database; this keeps both the file and what it can.
 */
import { closeSync, copyFileSync, existsSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import Database, { type Database as Db } from 'better-sqlite3';

export interface DatabaseRecovery {
  /** ms since the epoch. */
  at: number;
  /** What the quick check (or the open) said. */
  reason: string;
  /** Where the damaged file went. */
  moved_to: string;
  /** Undelivered messages copied into the fresh database. */
  recovered_outbox_rows: number;
  /** Runs of outbox ids that could not be read (lost, or left for a manual `.recover`). */
  unreadable_ranges: number;
}

/** Problems of the quick check reported at most (it stops there: a damaged file can have thousands). */
const MAX_PROBLEMS = 5;
/** Outbox rows read at a time: a damaged page costs one chunk, not the rest of the table. */
const MIN_CHUNK = 256;
const MAX_CHUNKS = 100_000;
const SIDE_FILES = ['-wal', '-shm'] as const;
/** Without a known newest id: ranges read past the last readable row before giving up. */
const UNBOUNDED_GIVE_UP = 64;

/** Why the database at `path` cannot be used, or null when it passes the quick check (or does not exist yet). */
export function checkDatabase(path: string): string | null {
  if (!existsSync(path)) return null;
  let db: Db | undefined;
  try {
    db = new Database(path, { fileMustExist: true });
    const rows = db.pragma(`quick_check(${MAX_PROBLEMS})`) as { quick_check: string }[];
    const problems = rows.map((r) => r.quick_check).filter((r) => r !== 'ok');
    return problems.length === 0 ? null : `quick_check: ${problems.join('; ').replace(/\s*\n\s*/g, ' ')}`;
  } catch (err) {
    const code = (err as { code?: string }).code;
    return `${code ? `${code}: ` : ''}${(err as Error).message}`;
  } finally {
    try {
      db?.close();
    } catch {
      // A damaged file may fail to close cleanly; it is moved aside next anyway.
    }
  }
}

/** Renames the database and its WAL and shared-memory files to `<path>.corrupt-<time>[-wal|-shm]`; returns the new path. */
export function moveAside(path: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
  const moved = `${path}.corrupt-${stamp}`;
  renameSync(path, moved);
  for (const suffix of SIDE_FILES) if (existsSync(path + suffix)) renameSync(path + suffix, moved + suffix);
  // The renames must survive a power cut too, or the next start would meet the damaged file again.
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
  return moved;
}

/**
 * Copies the outbox rows of the damaged database `from` that can be read into `into` (fresh, migrated),
 * in id ranges so that one damaged page loses its rows only. Rows whose fields are not what the agent
 * writes (garbage that happened to parse) are left out. It reads a scratch copy: SQLite cannot read a
 * WAL database read-only without its shared-memory file, and a read-write connection would checkpoint
 * the WAL into the kept file when it closes.
 */
export function copyReadableOutbox(from: string, into: Db): { rows: number; unreadable: number } {
  const scratch = `${from}.salvage`;
  try {
    copyFileSync(from, scratch);
    if (existsSync(`${from}-wal`)) copyFileSync(`${from}-wal`, `${scratch}-wal`);
    const src = new Database(scratch, { fileMustExist: true });
    // Reads a file shorter than its header says (truncated) instead of refusing it as a whole; SQLite
    // allows that only with writable_schema, which better-sqlite3's defensive mode forbids (nothing is written).
    src.unsafeMode(true);
    src.pragma('writable_schema = ON');
    return copyOutbox(src, into);
  } catch {
    return { rows: 0, unreadable: 1 };
  } finally {
    for (const suffix of ['', ...SIDE_FILES]) rmSync(scratch + suffix, { force: true });
  }
}

/** Reads `src` in id ranges (closing it after) and inserts what it can into `into`. */
function copyOutbox(src: Db, into: Db): { rows: number; unreadable: number } {
  let rows = 0;
  let unreadable = 0;
  try {
    const lo = bound(src, 'min');
    if (lo === null) return { rows: 0, unreadable: 1 };
    // The newest id sits on the right-most pages, which the damage may have taken: without it, ranges are
    // read until many in a row come back empty or unreadable.
    const hi = bound(src, 'max');
    const chunk = hi === null ? MIN_CHUNK : Math.max(MIN_CHUNK, Math.ceil((hi - lo + 1) / MAX_CHUNKS));
    const read = src.prepare('SELECT id, topic, payload, retain, created_at FROM outbox WHERE id BETWEEN ? AND ? ORDER BY id');
    const insert = into.prepare('INSERT OR IGNORE INTO outbox (id, topic, payload, retain, created_at) VALUES (?, ?, ?, ?, ?)');
    const copy = into.transaction((batch: Record<string, unknown>[]) => {
      for (const r of batch) if (wellFormed(r)) rows += insert.run(r.id, r.topic, r.payload, r.retain, r.created_at).changes;
    });
    // A range that cannot be read is split in halves down to single ids: one damaged page loses its own
    // rows, not the rest of the range.
    let lastUnreadable = Number.NaN;
    const salvage = (start: number, end: number): number => {
      let batch: Record<string, unknown>[];
      try {
        batch = read.all(start, end) as Record<string, unknown>[];
      } catch {
        if (start === end) {
          if (start !== lastUnreadable + 1) unreadable++;
          lastUnreadable = start;
          return 0;
        }
        const middle = Math.floor((start + end) / 2);
        return salvage(start, middle) + salvage(middle + 1, end);
      }
      copy(batch);
      return batch.length;
    };
    let fruitless = 0;
    for (let start = lo; hi === null ? fruitless < UNBOUNDED_GIVE_UP : start <= hi; start += chunk) {
      fruitless = salvage(start, start + chunk - 1) === 0 ? fruitless + 1 : 0;
    }
  } finally {
    src.close();
  }
  return { rows, unreadable };
}

/** min(id) or max(id) of the outbox, or null when it cannot be read (or the outbox is empty). */
function bound(src: Db, fn: 'min' | 'max'): number | null {
  try {
    return (src.prepare(`SELECT ${fn}(id) AS id FROM outbox`).get() as { id: number | null }).id;
  } catch {
    return null;
  }
}

function wellFormed(r: Record<string, unknown>): boolean {
  return (
    Number.isInteger(r.id) &&
    typeof r.topic === 'string' &&
    r.topic !== '' &&
    (typeof r.payload === 'string' || Buffer.isBuffer(r.payload)) &&
    (r.retain === 0 || r.retain === 1) &&
    Number.isInteger(r.created_at)
  );
}

/** "edge-agent.db.corrupt-2026-01-01T00-00-00-000Z": the file name the log and /health show. */
export function describeRecovery(recovery: DatabaseRecovery): string {
  return (
    `the database was damaged (${recovery.reason}): moved aside to ${basename(recovery.moved_to)}, a fresh one started, ` +
    `${recovery.recovered_outbox_rows} undelivered message(s) recovered` +
    (recovery.unreadable_ranges > 0 ? `, ${recovery.unreadable_ranges} range(s) of them unreadable` : '')
  );
}
