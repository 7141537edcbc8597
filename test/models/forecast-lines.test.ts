import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../models/errors.js';
import { forecastLines, lineGroups, OVERSIZED_LINE, parseForecastLine, type InputLine } from '../../models/forecast-lines.js';
import { loadForecaster } from '../../models/forecast.js';
import type { Forecaster } from '../../models/types.js';
import { testWindows } from './forecast-windows.js';

async function* chunksOf(...chunks: string[]): AsyncGenerator<string> {
  yield* chunks;
}

async function groups(chunks: string[], maxLineLength?: number): Promise<InputLine[][]> {
  const result: InputLine[][] = [];
  for await (const group of lineGroups(chunksOf(...chunks), maxLineLength)) result.push(group);
  return result;
}

describe('lineGroups', () => {
  it('yields the complete lines of each chunk, joining lines split across chunks', async () => {
    expect(await groups(['a\nb', 'c\r\nd\n', 'e'])).toEqual([['a'], ['bc', 'd'], ['e']]);
    expect(await groups(['x', 'y', 'z\n'])).toEqual([['xyz']]);
    expect(await groups(['\n\n'])).toEqual([['', '']]);
    expect(await groups([])).toEqual([]);
  });

  it('answers an over-long line without buffering it, even across chunks, and goes on', async () => {
    expect(await groups(['12345', '678', '9\nok\n'], 5)).toEqual([[OVERSIZED_LINE, 'ok']]);
    expect(await groups(['ok\n123456\n'], 5)).toEqual([['ok', OVERSIZED_LINE]]);
    expect(await groups(['ok\n1234567'], 5)).toEqual([['ok'], [OVERSIZED_LINE]]);
  });
});

describe('parseForecastLine', () => {
  it('reads {"values": [...]} and gives the reason for anything else', () => {
    expect(parseForecastLine('{"values": [1, 2.5, -3]}', 3)).toEqual([1, 2.5, -3]);
    expect(parseForecastLine(' {"values":[1,2,3],"sensor":"bme280"} ', 3)).toEqual([1, 2, 3]);
    const reasons: [string, string | RegExp][] = [
      ['', 'empty line'],
      ['{"values": [1, 2', /^invalid JSON \(/],
      ['[1, 2, 3]', 'expected an object {"values": [3 numbers]}'],
      ['"values"', 'expected an object {"values": [3 numbers]}'],
      ['{"temperatures": [1, 2, 3]}', 'expected an object {"values": [3 numbers]}'],
      ['{"values": [1, 2]}', 'exactly 3 temperature values are required, received 2'],
      ['{"values": [1, null, 3]}', 'value at index 1 is not a number: null'],
      ['{"values": "1,2,3"}', 'expected an array of exactly 3 temperature values, got string'],
    ];
    for (const [line, reason] of reasons) {
      expect(() => parseForecastLine(line, 3), line).toThrow(InvalidInputError);
      expect(() => parseForecastLine(line, 3), line).toThrow(reason);
    }
  });
});

describe('forecastLines', () => {
  let forecaster: Forecaster;
  const { windows } = testWindows();

  beforeAll(async () => {
    forecaster = await loadForecaster();
  });
  afterAll(async () => {
    await forecaster.close();
  });

  it('answers every line in order, good ones with the batch prediction and bad ones with the reason', async () => {
    const good = windows.slice(0, 3);
    const expected = await forecaster.forecastBatch(good);
    const lines: InputLine[] = [
      JSON.stringify({ values: good[0] }),
      'not json',
      JSON.stringify({ values: good[1] }),
      OVERSIZED_LINE,
      JSON.stringify({ values: good[2]!.slice(1) }),
      JSON.stringify({ values: good[2] }),
    ];
    const { output, failed } = await forecastLines(forecaster, lines, 41);
    expect(failed).toBe(3);
    expect(output.endsWith('\n')).toBe(true);
    const answers = output.trimEnd().split('\n').map((line) => JSON.parse(line) as unknown);
    expect(answers).toEqual([
      { prediction_celsius: expected[0] },
      { error: expect.stringMatching(/^line 42: invalid JSON/) },
      { prediction_celsius: expected[1] },
      { error: 'line 44: line longer than 1048576 characters' },
      { error: 'line 45: exactly 60 temperature values are required, received 59' },
      { prediction_celsius: expected[2] },
    ]);
    expect(await forecastLines(forecaster, [], 1)).toEqual({ output: '', failed: 0 });
  });
});
