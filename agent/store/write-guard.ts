/**
 * Keeps the daemon alive through failed writes: a full disk, a worn SD card (SQLITE_IOERR), a file
 * made read-only. The failure is logged with what it means and counted, the transaction is rolled
 * back by SQLite, and the caller gets `false`. While the disk stays full every reading would fail the
 * same way, so identical failures are logged at most once a minute, with how many were not logged.
 */
import type { Logger } from '../lib/log.js';

const REPEAT_LOG_MS = 60_000;

const MEANINGS: [prefix: string, meaning: string][] = [
  ['SQLITE_FULL', 'the disk is full (or the database reached its size cap)'],
  ['SQLITE_IOERR', 'an I/O error: the storage device may be failing'],
  ['SQLITE_READONLY', 'the database file or its folder is read-only'],
  ['SQLITE_BUSY', 'another process holds a lock on the database'],
  ['SQLITE_CORRUPT', 'the database file is corrupt'],
  ['SQLITE_CANTOPEN', 'the database file cannot be opened'],
];

/** `SQLITE_FULL: database or disk is full` -> what it means for a user. */
export function describeSqliteError(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof code !== 'string') return message;
  const meaning = MEANINGS.find(([prefix]) => code.startsWith(prefix))?.[1];
  return meaning ? `${code}: ${meaning} (${message})` : `${code}: ${message}`;
}

export class WriteGuard {
  failures = 0;
  /** The last failure's description while writes keep failing; null once one succeeds again. */
  lastFailure: string | null = null;
  private lastLogged: { reason: string; at: number } | null = null;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly clock: () => number,
  ) {}

  /** Runs a synchronous write; true if it succeeded. */
  run(what: string, write: () => void): boolean {
    try {
      write();
    } catch (err) {
      this.fail(what, err);
      return false;
    }
    if (this.lastFailure !== null) {
      this.logger.info({ failures: this.failures }, 'database writes succeed again');
      this.lastFailure = null;
      this.lastLogged = null;
    }
    return true;
  }

  /** Records a failure of a write that ran elsewhere (the checkpoint worker). */
  fail(what: string, err: unknown): void {
    this.failures += 1;
    const reason = describeSqliteError(err);
    this.lastFailure = reason;
    const now = this.clock();
    if (this.lastLogged?.reason === reason && now - this.lastLogged.at < REPEAT_LOG_MS) {
      this.suppressed += 1;
      return;
    }
    this.logger.error({ err, suppressed: this.suppressed, failures: this.failures }, `could not ${what}: ${reason}`);
    this.lastLogged = { reason, at: now };
    this.suppressed = 0;
  }
}
