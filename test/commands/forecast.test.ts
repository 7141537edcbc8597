import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadForecaster } from '../../models/forecast.js';
import type { Forecaster } from '../../models/types.js';
import { edgeAgent } from '../helpers/cli.js';
import { fixture } from '../helpers/fixtures.js';
import { testWindows } from '../models/forecast-windows.js';

/** Runs `edge-agent forecast ...` from dist/ (as installed), feeding `stdin` if given. */
const forecast = (args: string[], stdin = '') => edgeAgent(['forecast', ...args], { stdin });

const lines = (text: string) => text.trimEnd().split('\n');

describe('edge-agent forecast', () => {
  let forecaster: Forecaster;
  const { windows } = testWindows();
  const window = windows[0]!;

  beforeAll(async () => {
    forecaster = await loadForecaster();
  });
  afterAll(async () => {
    await forecaster.close();
  });

  it('--values prints the prediction with its unit, horizon and model', async () => {
    const result = await forecast(['--values', window.join(',')]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(lines(result.stdout)).toHaveLength(1);
    expect(JSON.parse(result.stdout)).toEqual({
      prediction_celsius: await forecaster.forecast(window),
      unit: 'Celsius',
      horizon_s: 3600,
      model: { name: forecaster.info.name, version: forecaster.info.version },
    });
  });

  it('exits 65 with one line naming the problem for invalid values', async () => {
    const cases: [string, string][] = [
      [window.slice(1).join(','), '--values: exactly 60 temperature values are required, received 59'],
      [[...window.slice(0, 7), 'abc', ...window.slice(8)].join(','), '--values: value at index 7 is not a number: "abc"'],
      [[...window.slice(0, 59), ''].join(','), '--values: value at index 59 is not a number: ""'],
      [[...window.slice(0, 3), 'NaN', ...window.slice(4)].join(','), '--values: value at index 3 is not a number: "NaN"'],
      [[...window.slice(0, 2), '300', ...window.slice(3)].join(','), '--values: value at index 2 is outside the plausible range -60 to 125 °C: 300'],
    ];
    const results = await Promise.all(cases.map(([values]) => forecast([`--values=${values}`])));
    results.forEach((result, i) => {
      const message = cases[i]![1];
      expect(result, message).toEqual({ code: 65, stdout: '', stderr: `edge-agent forecast: ${message}\n` });
    });
  });

  it('exits 2 on usage errors and 66 on a model it cannot use', async () => {
    const detector = fixture('models/yolov8n-int8.onnx');
    const [none, both, extra, unknown, notForecaster, help] = await Promise.all([
      forecast([]),
      forecast(['--batch', '--values', '1']),
      forecast(['--values', '1', 'extra']),
      forecast(['--frobnicate']),
      forecast(['--model', detector, '--values', window.join(',')]),
      forecast(['--help']),
    ]);
    expect(none).toMatchObject({ code: 2, stderr: 'edge-agent forecast: give either --values v1,...,v60 or --batch\n' });
    expect(both).toMatchObject({ code: 2 });
    expect(extra).toMatchObject({ code: 2, stderr: 'edge-agent forecast: unexpected argument "extra"\n' });
    expect(unknown.code).toBe(2);
    expect(notForecaster).toEqual({
      code: 66,
      stdout: '',
      stderr: `edge-agent forecast: ${detector}: no forecaster contract in the ONNX metadata: missing window, step_s, horizon_s, unit\n`,
    });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: edge-agent forecast/);
  });

  it('refuses a model that is not a regular file at once (exit 66), instead of reading /dev/zero without end', async () => {
    expect(await forecast(['--model', '/dev/zero', '--values', window.join(',')])).toEqual({
      code: 66,
      stdout: '',
      stderr: 'edge-agent forecast: --model: /dev/zero is a character device, not a regular file\n',
    });
  });

  it('--batch answers every stdin line in order, bad lines with their reason, and exits 65 if any was bad', async () => {
    const input = [
      JSON.stringify({ values: windows[0] }),
      JSON.stringify({ values: windows[1]!.slice(2) }),
      '',
      '{"values": [1, 2',
      JSON.stringify({ values: windows[2] }),
    ].join('\r\n');
    const result = await forecast(['--batch'], input); // no final newline: the last line still counts
    const expected = await forecaster.forecastBatch([windows[0]!, windows[2]!]);
    const answers = lines(result.stdout).map((line) => JSON.parse(line) as unknown);
    expect(answers).toEqual([
      { prediction_celsius: expected[0] },
      { error: 'line 2: exactly 60 temperature values are required, received 58' },
      { error: 'line 3: empty line' },
      { error: expect.stringMatching(/^line 4: invalid JSON/) },
      { prediction_celsius: expected[1] },
    ]);
    expect(result.code).toBe(65);
    expect(result.stderr).toBe('edge-agent forecast: 3 of 5 lines were invalid\n');
  });

  it('--batch over the whole test file gives exactly the in-process batch predictions and exits 0', async () => {
    const input = windows.map((values) => JSON.stringify({ values }) + '\n').join('');
    const result = await forecast(['--batch'], input);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const predictions = lines(result.stdout).map((line) => (JSON.parse(line) as { prediction_celsius: number }).prediction_celsius);
    expect(predictions).toEqual(await forecaster.forecastBatch(windows));
    expect(await forecast(['--batch'], '')).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});
