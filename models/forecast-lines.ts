/**
 * JSON-lines forecasting (`edge-agent forecast --batch`): each input line `{"values": [60 numbers]}`
 * gives one output line, `{"prediction_celsius": x}` or `{"error": "<reason>"}`, in input order.
 * Lines arrive in groups (whatever one read from the stream holds) and each group's valid windows run
 * as one `forecastBatch`, so a piped file is fast and an interactive caller still gets an answer per line.
 */
import { InvalidInputError } from './errors.js';
import { validateWindow } from './forecast.js';
import type { Forecaster } from './types.js';

/** Longer lines are answered with an error without being buffered (a window is under 2 KB). */
export const MAX_LINE_LENGTH = 1 << 20;

/** Stands in for a line that exceeded MAX_LINE_LENGTH. */
export const OVERSIZED_LINE = null;
export type InputLine = string | typeof OVERSIZED_LINE;

/** Reads one input line into a validated window; throws InvalidInputError with the reason. */
export function parseForecastLine(line: string, window: number): number[] {
  if (line.trim() === '') throw new InvalidInputError('empty line');
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    throw new InvalidInputError(`invalid JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !('values' in parsed)) {
    throw new InvalidInputError(`expected an object {"values": [${window} numbers]}`);
  }
  return validateWindow(parsed.values, window);
}

/**
 * Splits text chunks into groups of complete lines, one group per chunk that completes at least one
 * line. A trailing line without a newline is flushed at the end; CRLF endings are accepted.
 */
export async function* lineGroups(chunks: AsyncIterable<string>, maxLineLength = MAX_LINE_LENGTH): AsyncGenerator<InputLine[]> {
  let partial = '';
  let oversized = false;
  for await (const chunk of chunks) {
    const group: InputLine[] = [];
    let start = 0;
    for (let newline = chunk.indexOf('\n'); newline >= 0; newline = chunk.indexOf('\n', start)) {
      const line = partial + chunk.slice(start, newline);
      group.push(oversized || line.length > maxLineLength ? OVERSIZED_LINE : line.replace(/\r$/, ''));
      partial = '';
      oversized = false;
      start = newline + 1;
    }
    if (!oversized) partial += chunk.slice(start);
    if (partial.length > maxLineLength) {
      oversized = true;
      partial = '';
    }
    if (group.length > 0) yield group;
  }
  if (oversized) yield [OVERSIZED_LINE];
  else if (partial !== '') yield [partial.replace(/\r$/, '')];
}

export interface ForecastedLines {
  /** One JSON line per input line, each ending in "\n". */
  output: string;
  failed: number;
}

/** Answers a group of input lines; `firstLineNumber` (1-based) is used in error reasons. */
export async function forecastLines(forecaster: Forecaster, lines: readonly InputLine[], firstLineNumber: number): Promise<ForecastedLines> {
  if (lines.length === 0) return { output: '', failed: 0 };
  const answers = new Array<string>(lines.length);
  const windows: number[][] = [];
  const positions: number[] = [];
  lines.forEach((line, i) => {
    try {
      if (line === OVERSIZED_LINE) throw new InvalidInputError(`line longer than ${MAX_LINE_LENGTH} characters`);
      windows.push(parseForecastLine(line, forecaster.contract.window));
      positions.push(i);
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
      answers[i] = JSON.stringify({ error: `line ${firstLineNumber + i}: ${err.message}` });
    }
  });
  const predictions = await forecaster.forecastBatch(windows);
  positions.forEach((position, k) => (answers[position] = JSON.stringify({ prediction_celsius: predictions[k] })));
  return { output: answers.join('\n') + '\n', failed: lines.length - windows.length };
}
