/**
 * How the agent's SQLite connection is set up: the pragmas that make a write durable (WAL with group
 * commit, agent/store/wal-sync.ts) and cheap on an SD card.
 */
import type { Database } from 'better-sqlite3';

/** The WAL is truncated back to this size after a checkpoint, so it cannot grow without bound. */
const JOURNAL_SIZE_LIMIT = 4 * 1024 * 1024;
/**
 * Every commit appends each page it changed to the WAL, and every checkpoint fsyncs those bytes: a
 * reading with its outbox row changes about three pages. 1 KB pages (SQLite's default is 4 KB) write a
 * quarter of the bytes per commit for rows of a few hundred bytes (less to fsync, less SD card wear).
 * Applies to new database files only: an existing file keeps its page size.
 */
const PAGE_SIZE = 1024;
/**
 * SQLite checkpoints (two fsyncs, on the event loop) whenever the WAL reaches this many pages; its
 * default, 1,000 pages, meant one every ~300 commits during a burst, and those fsyncs cost more than
 * the commits themselves. Durability does not need checkpoints (WalSync fsyncs the WAL), so they come
 * from the hourly prune, and from this cap, which bounds the WAL at 16 MB (1 KB pages) in between.
 */
const WAL_AUTOCHECKPOINT_PAGES = 16_384;

export function configureConnection(db: Database, synchronous: 'FULL' | 'NORMAL'): void {
  db.pragma(`page_size = ${PAGE_SIZE}`); // before WAL mode, or it cannot apply to a new file
  db.pragma('journal_mode = WAL');
  db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
  // A second process (`edge-agent doctor`, sqlite3) may read while the agent writes.
  db.pragma('busy_timeout = 5000');
}
