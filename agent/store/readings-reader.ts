/**
 * Valid readings straight from the agent's database file, for another thread (the forecast calibration's
 * worker): a read-only connection of its own, which WAL mode lets read while the daemon writes. Rows are
 * streamed, so weeks of readings never sit in memory at once.
 */
import Database from 'better-sqlite3';
import type { ValidReading } from './types.js';

export interface ReadingsReader {
  /** Valid readings with `fromTs <= ts <= toTs`, oldest first. */
  validReadings(fromTs: number, toTs: number): IterableIterator<ValidReading>;
  close(): void;
}

export function openReadingsReader(path: string): ReadingsReader {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  const statement = db.prepare('SELECT ts, celsius FROM readings WHERE valid = 1 AND ts >= ? AND ts <= ? ORDER BY ts, id');
  return {
    validReadings: (fromTs, toTs) => statement.iterate(fromTs, toTs) as IterableIterator<ValidReading>,
    close: () => db.close(),
  };
}
