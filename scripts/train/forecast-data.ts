/**
 * The UCI Occupancy Detection files as forecasting examples: parse the CSV, place each reading on its
 * minute, and cut windows of consecutive readings with the reading exactly one horizon later as target.
 *
 * The files log "one reading a minute" with timestamps on :00 or :59 seconds (the logger drifts by a
 * second), so a reading belongs to its nearest minute; windows never span a missing minute.
 */

export interface TimedReading {
  /** Minutes since the epoch, the timestamp rounded to the nearest minute (file times taken as UTC). */
  minute: number;
  celsius: number;
}

export interface ForecastExamples {
  /** Each window holds `window` readings, oldest first, one per minute. */
  windows: Float64Array[];
  /** The reading `horizon` minutes after each window's last one. */
  targets: Float64Array;
  /** Minute of each window's last reading (lets cross-validation keep folds apart in time). */
  lastMinutes: Float64Array;
}

const MS_PER_MINUTE = 60_000;
// "2015-02-04 17:51:59": the files' only timestamp format.
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

function unquote(field: string): string {
  const trimmed = field.trim();
  return trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1) : trimmed;
}

function parseMinute(text: string, where: string): number {
  const m = TIMESTAMP.exec(text);
  if (!m) throw new Error(`${where}: timestamp ${JSON.stringify(text)} is not "YYYY-MM-DD hh:mm:ss"`);
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return Math.round(Date.UTC(year, month - 1, day, hour, minute, second) / MS_PER_MINUTE);
}

/**
 * Parses an occupancy file: a quoted header naming `date` and `Temperature`, then rows that carry a
 * leading row number the header does not name. Throws naming the file, line and field on bad rows,
 * and on two readings that fall on the same minute (that would mean the timestamps are not what we
 * think they are).
 */
export function parseOccupancyCsv(text: string, source = 'occupancy CSV'): TimedReading[] {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map(unquote);
  const dateColumn = header.indexOf('date');
  const temperatureColumn = header.indexOf('Temperature');
  if (dateColumn < 0 || temperatureColumn < 0) {
    throw new Error(`${source}: header must name "date" and "Temperature", found ${JSON.stringify(header)}`);
  }
  const readings: TimedReading[] = [];
  let previousMinute = -Infinity;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === '') continue;
    const where = `${source} line ${i + 1}`;
    const fields = line.split(',').map(unquote);
    const offset = fields.length - header.length; // 1 when the row number is present
    if (offset !== 0 && offset !== 1) throw new Error(`${where}: expected ${header.length} or ${header.length + 1} fields, found ${fields.length}`);
    const minute = parseMinute(fields[dateColumn + offset] ?? '', where);
    const celsiusText = fields[temperatureColumn + offset] ?? '';
    const celsius = Number(celsiusText);
    if (celsiusText === '' || !Number.isFinite(celsius)) throw new Error(`${where}: Temperature ${JSON.stringify(celsiusText)} is not a number`);
    if (minute <= previousMinute) throw new Error(`${where}: reading is not after the previous one (same or earlier minute)`);
    previousMinute = minute;
    readings.push({ minute, celsius });
  }
  return readings;
}

/**
 * Every window of `window` readings on consecutive minutes whose target (the reading `horizon` minutes
 * after the window's last) exists, in time order. Readings must be sorted by minute.
 */
export function buildExamples(readings: readonly TimedReading[], window: number, horizon: number): ForecastExamples {
  const byMinute = new Map<number, number>();
  for (const r of readings) byMinute.set(r.minute, r.celsius);
  const windows: Float64Array[] = [];
  const targets: number[] = [];
  const lastMinutes: number[] = [];
  // Length of the run of consecutive minutes ending at reading i, so a window is one lookup.
  let run = 0;
  for (let i = 0; i < readings.length; i++) {
    const reading = readings[i] as TimedReading;
    run = i > 0 && (readings[i - 1] as TimedReading).minute === reading.minute - 1 ? run + 1 : 1;
    const target = byMinute.get(reading.minute + horizon);
    if (run < window || target === undefined) continue;
    const values = new Float64Array(window);
    for (let k = 0; k < window; k++) values[k] = (readings[i - window + 1 + k] as TimedReading).celsius;
    windows.push(values);
    targets.push(target);
    lastMinutes.push(reading.minute);
  }
  return { windows, targets: Float64Array.from(targets), lastMinutes: Float64Array.from(lastMinutes) };
}
