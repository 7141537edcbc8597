import { SensorConfigError } from './errors.js';

/**
 * Reads a time series out of a CSV file such as the UCI occupancy files:
 *   "date","Temperature","Humidity",...
 *   "140","2015-02-02 14:19:00",23.7,26.272,...
 * A data row with one field more than the header starts with a row name (R's write.csv), which is
 * dropped. The time column is the one named date, time, timestamp or ts.
 */

export interface ReplayRow {
  /** ms since the epoch; a time without a zone is taken as UTC. */
  ts: number;
  /** Line number in the file, for messages. */
  line: number;
  /** The value, or null when the field is not a number (`raw` says what it was). */
  value: number | null;
  raw: string;
}

const TIME_COLUMNS = ['date', 'time', 'timestamp', 'ts'];
const TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(Z|[+-]\d{2}:?\d{2})?$/i;

function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted && c === '"' && line[i + 1] === '"') {
      field += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (c === ',' && !quoted) {
      fields.push(field);
      field = '';
    } else {
      field += c;
    }
  }
  fields.push(field);
  return fields.map((f) => f.trim());
}

/** `2015-02-02 14:19:00` (UTC), or ISO 8601 with a zone; NaN when it is neither. */
export function parseTimestamp(text: string): number {
  const match = TIMESTAMP.exec(text.trim());
  if (!match) return NaN;
  const [, date, time, zone] = match;
  const offset = zone && zone.toUpperCase() !== 'Z' ? zone.replace(/^([+-]\d{2})(\d{2})$/, '$1:$2') : 'Z';
  return Date.parse(`${date}T${time}${offset}`);
}

function findColumn(header: string[], wanted: string[], what: string, source: string): number {
  for (const name of wanted) {
    const exact = header.indexOf(name);
    if (exact >= 0) return exact;
    const loose = header.findIndex((h) => h.toLowerCase() === name.toLowerCase());
    if (loose >= 0) return loose;
  }
  throw new SensorConfigError(`${source}: no ${what} column (columns: ${header.join(', ')})`);
}

export function parseReplayCsv(text: string, column: string, source: string): ReplayRow[] {
  const lines = text.split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '');
  const timeIndex = findColumn(header, TIME_COLUMNS, 'date/time', source);
  const valueIndex = findColumn(header, [column], `${JSON.stringify(column)}`, source);
  const rows: ReplayRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const text = lines[i] ?? '';
    if (text.trim() === '') continue;
    const line = i + 1;
    const fields = splitCsvLine(text);
    const shift = fields.length - header.length;
    if (shift !== 0 && shift !== 1) {
      throw new SensorConfigError(`${source}:${line}: ${fields.length} fields, the header has ${header.length}`);
    }
    const time = fields[timeIndex + shift] ?? '';
    const ts = parseTimestamp(time);
    if (Number.isNaN(ts)) throw new SensorConfigError(`${source}:${line}: ${JSON.stringify(time)} is not a date and time`);
    const previous = rows.at(-1);
    if (previous && ts < previous.ts) throw new SensorConfigError(`${source}:${line}: time goes backwards (${time})`);
    const raw = fields[valueIndex + shift] ?? '';
    const value = raw === '' ? NaN : Number(raw);
    rows.push({ ts, line, value: Number.isFinite(value) ? value : null, raw });
  }
  if (rows.length === 0) throw new SensorConfigError(`${source}: no data rows`);
  return rows;
}

/**
 * One row per `intervalMs` of data time: the first row of each slot of a grid anchored at the first
 * row, the slots centred on the grid points so that a second of jitter (14:19:59 for 14:20:00) does not
 * drop a row when the interval equals the file's own step.
 */
export function thinToInterval(rows: readonly ReplayRow[], intervalMs: number): ReplayRow[] {
  const first = rows[0]?.ts ?? 0;
  const kept: ReplayRow[] = [];
  let lastSlot = -1;
  for (const row of rows) {
    const slot = Math.floor((row.ts - first + intervalMs / 2) / intervalMs);
    if (slot === lastSlot) continue;
    kept.push(row);
    lastSlot = slot;
  }
  return kept;
}
