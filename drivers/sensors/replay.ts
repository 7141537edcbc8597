import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { SensorConfigError } from './errors.js';
import { AMBIENT_RANGE, checkedReading, invalidReading } from './reading.js';
import { parseReplayCsv, thinToInterval, type ReplayRow } from './replay-csv.js';
import { SerialQueue } from '../../agent/lib/serial-queue.js';
import type { Clock, Sleep } from '../../agent/lib/timing.js';
import type { Reading, TemperatureSensor } from './types.js';

export interface ReplayOptions {
  file: string;
  column: string;
  /** Data time runs this many times faster than wall time. */
  speed: number;
  loop: boolean;
  /** Rows are thinned to one per this many seconds of data time. */
  intervalS: number;
  clock: Clock;
  sleep: Sleep;
}

/**
 * Replays a CSV time series (such as the occupancy files) as a sensor. Readings carry the file's own
 * timestamps, so the daemon computes its windows in data time.
 *
 * Pacing: the first read() resolves at once, at wall time W0, with the first row (data time D0). Every
 * later read() resolves at wall time W0 + (D - D0) / speed, D being the data time of the row it returns;
 * a caller that is late gets its row at once, and rows are never skipped. `next()` returns the next
 * reading without waiting.
 *
 * End of the file: with `loop`, the file starts again with its timestamps shifted by its span plus one
 * step, so data time keeps increasing; without, every further reading is invalid ("replay finished"),
 * one step of data time apart and paced the same way.
 */
export class ReplaySensor implements TemperatureSensor {
  readonly name: string;
  readonly paced = true;
  /** Position over all laps: lap = floor(position / rows.length). */
  private position = 0;
  private wallStart: number | null = null;
  private readonly step: number;
  private readonly queue = new SerialQueue();
  private readonly closing = new AbortController();

  constructor(
    private readonly rows: readonly ReplayRow[],
    private readonly options: ReplayOptions,
  ) {
    this.name = `replay:${basename(options.file)}`;
    this.step = medianStep(rows) ?? options.intervalS * 1000;
  }

  read(): Promise<Reading> {
    return this.queue.run(async () => {
      const { clock, sleep, speed } = this.options;
      if (this.closing.signal.aborted) return this.closedReading();
      this.wallStart ??= clock.now();
      const due = this.wallStart + (this.dataTime(this.position) - this.firstTs) / speed;
      const wait = due - clock.now();
      if (wait > 0) await sleep(wait, this.closing.signal);
      return this.closing.signal.aborted ? this.closedReading() : this.next();
    });
  }

  /** The next reading, at once: tests, benchmarks and bulk imports go through this. */
  next(): Reading {
    const position = this.position++;
    const ts = this.dataTime(position);
    if (!this.options.loop && position >= this.rows.length) {
      const last = this.rows.at(-1)?.ts ?? ts;
      return invalidReading(this.name, ts, `replay finished: ${basename(this.options.file)} has no rows after ${new Date(last).toISOString()}`);
    }
    const row = this.rows[position % this.rows.length] as ReplayRow;
    if (row.value === null) {
      return invalidReading(this.name, ts, `${basename(this.options.file)}:${row.line}: ${this.options.column} is ${JSON.stringify(row.raw)}, not a number`);
    }
    return checkedReading(this.name, ts, row.value, AMBIENT_RANGE);
  }

  close(): Promise<void> {
    this.closing.abort();
    return this.queue.drain();
  }

  private get firstTs(): number {
    return this.rows[0]?.ts ?? 0;
  }

  private dataTime(position: number): number {
    const count = this.rows.length;
    const lastTs = this.rows.at(-1)?.ts ?? this.firstTs;
    if (!this.options.loop && position >= count) return lastTs + (position - count + 1) * this.step;
    const lap = Math.floor(position / count);
    const row = this.rows[position % count] as ReplayRow;
    return row.ts + lap * (lastTs - this.firstTs + this.step);
  }

  private closedReading(): Reading {
    return invalidReading(this.name, this.options.clock.now(), 'sensor closed');
  }
}

function medianStep(rows: readonly ReplayRow[]): number | null {
  const steps = rows.slice(1).map((row, i) => row.ts - (rows[i] as ReplayRow).ts);
  if (steps.length === 0) return null;
  steps.sort((a, b) => a - b);
  return steps[Math.floor(steps.length / 2)] ?? null;
}

/** Loads and thins the file; every problem with it is a SensorConfigError naming the file. */
export async function openReplaySensor(options: ReplayOptions): Promise<ReplaySensor> {
  if (!(options.speed > 0) || !Number.isFinite(options.speed)) {
    throw new SensorConfigError(`sensor.speed must be a positive number, not ${options.speed}`);
  }
  if (!(options.intervalS > 0)) throw new SensorConfigError(`sensor.interval_s must be positive, not ${options.intervalS}`);
  let text: string;
  try {
    text = await readFile(options.file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SensorConfigError(`replay file ${options.file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`, code);
  }
  const rows = thinToInterval(parseReplayCsv(text, options.column, basename(options.file)), options.intervalS * 1000);
  return new ReplaySensor(rows, options);
}
