/**
 * Clock safety for a board without a real-time clock. A Pi boots with its clock at the last shutdown (or
 * in 1970) and steps when NTP answers, and a bad clock can step anywhere. Wall time is therefore never
 * trusted to order records (the store orders by its own sequence, the row ids) nor to measure an age
 * across a step. This module keeps the `clock_epochs` table:
 *
 * - an epoch is a stretch of wall time without a step; every record is written with the current epoch
 *   and whether the clock was synchronised (NTP) when it was made;
 * - a step is seen by comparing how far the wall clock and the monotonic clock moved between two writes
 *   (more than STEP_TOLERANCE_MS apart), or, at open, by the clock being before the newest record;
 * - each epoch has a `shift_ms` that maps its timestamps onto the current timeline: a step of +d adds d to
 *   every earlier epoch. Retention counts ages on that timeline, so a step of a year forward does not
 *   wipe the history, and a step of a day back does not keep it a day too long. An age is never
 *   overestimated: across a restart the downtime is unknown and counted as none;
 * - a forecast window takes readings of the current epoch only, so it never spans a step.
 */
import type { Database as Db, Statement } from 'better-sqlite3';
import type { Logger } from '../lib/log.js';

/** A step smaller than this is NTP slewing or timer noise, not a step. */
export const STEP_TOLERANCE_MS = 1_000;

/** Tables whose rows carry `ts`, `clock_epoch` and `clock_synced`. */
export const TIMED_TABLES = ['readings', 'detections', 'forecasts'] as const;

export interface ClockDeps {
  /** ms since the epoch (steps with the system clock). */
  wall: () => number;
  /** ms from any origin, never steps (performance.now). */
  monotonic: () => number;
  /** The system clock is synchronised (NTP), as the kernel says. */
  synced: () => boolean;
  logger: Logger;
}

export interface ClockStamp {
  epoch: number;
  /** 1 or 0, as stored. */
  synced: number;
}

export class ClockEpochs {
  private current: number;
  private lastWall: number;
  private lastMono: number;
  private readonly shiftEarlier: Statement;
  private readonly insertEpoch: Statement;

  constructor(
    private readonly db: Db,
    private readonly deps: ClockDeps,
  ) {
    this.shiftEarlier = db.prepare('UPDATE clock_epochs SET shift_ms = shift_ms + ? WHERE epoch < ?');
    this.insertEpoch = db.prepare('INSERT INTO clock_epochs (epoch, started_at, shift_ms, cause) VALUES (?, ?, 0, ?)');
    this.current = (db.prepare('SELECT max(epoch) AS epoch FROM clock_epochs').get() as { epoch: number }).epoch;
    this.lastWall = deps.wall();
    this.lastMono = deps.monotonic();
    // Before the newest record: the clock went back while the agent was off (or starts in 1970).
    const newest = this.newestOfCurrentEpoch();
    if (newest !== null && this.lastWall < newest - STEP_TOLERANCE_MS) this.step(this.lastWall - newest, 'clock before the newest record at start');
  }

  /** The epoch and sync state for a record written now (a step since the last call starts a new epoch). */
  stamp(): ClockStamp {
    const wall = this.deps.wall();
    const mono = this.deps.monotonic();
    const drift = wall - this.lastWall - (mono - this.lastMono);
    this.lastWall = wall;
    this.lastMono = mono;
    if (Math.abs(drift) > STEP_TOLERANCE_MS) this.step(drift, 'clock step while running');
    return { epoch: this.current, synced: this.deps.synced() ? 1 : 0 };
  }

  get epoch(): number {
    return this.current;
  }

  /** Each epoch with the shift that maps its timestamps onto the current timeline. */
  shifts(): { epoch: number; shift: number }[] {
    return this.db.prepare('SELECT epoch, shift_ms AS shift FROM clock_epochs ORDER BY epoch').all() as { epoch: number; shift: number }[];
  }

  private step(driftMs: number, cause: string): void {
    const next = this.current + 1;
    this.db.transaction(() => {
      this.shiftEarlier.run(Math.round(driftMs), next);
      this.insertEpoch.run(next, this.deps.wall(), cause);
    })();
    this.current = next;
    const days = Math.abs(driftMs) / 86_400_000;
    const size = days >= 1 ? `${days.toFixed(1)} days` : `${(Math.abs(driftMs) / 1000).toFixed(1)} s`;
    this.deps.logger.warn(
      { step_ms: Math.round(driftMs), clock_epoch: next, cause },
      `the wall clock stepped ${driftMs > 0 ? 'forward' : 'back'} by ${size}: new clock epoch ${next} (forecast windows start afresh; retention counts ages across the step)`,
    );
  }

  private newestOfCurrentEpoch(): number | null {
    let newest: number | null = null;
    for (const table of TIMED_TABLES) {
      const row = this.db.prepare(`SELECT max(ts) AS ts FROM ${table} WHERE clock_epoch = ?`).get(this.current) as { ts: number | null };
      if (row.ts !== null && (newest === null || row.ts > newest)) newest = row.ts;
    }
    return newest;
  }
}

/**
 * Deletes the records more than `retentionMs` older than the newest record or now, whichever is earlier
 * (a replay of old data keeps its last days), ages counted on the current timeline (each epoch's shift).
 */
export function pruneByAge(db: Db, epochs: ClockEpochs, now: number, retentionMs: number): Record<(typeof TIMED_TABLES)[number], number> {
  const shifts = epochs.shifts();
  let newest = -Infinity;
  for (const table of TIMED_TABLES) {
    for (const { epoch, shift } of shifts) {
      const row = db.prepare(`SELECT max(ts) AS ts FROM ${table} WHERE clock_epoch = ?`).get(epoch) as { ts: number | null };
      if (row.ts !== null) newest = Math.max(newest, row.ts + shift);
    }
  }
  const cutoff = Math.min(now, newest) - retentionMs;
  const removed = { readings: 0, detections: 0, forecasts: 0 };
  for (const table of TIMED_TABLES) {
    const remove = db.prepare(`DELETE FROM ${table} WHERE clock_epoch = ? AND ts < ?`);
    for (const { epoch, shift } of shifts) removed[table] += remove.run(epoch, cutoff - shift).changes;
    // An epoch whose row a rolled-back batch took away: its records count unshifted.
    removed[table] += db.prepare(`DELETE FROM ${table} WHERE clock_epoch NOT IN (SELECT epoch FROM clock_epochs) AND ts < ?`).run(cutoff).changes;
  }
  return removed;
}
