import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shippedModelPath } from '../../agent/lib/paths.js';
import { loadForecaster } from '../../models/forecast.js';
import type { Forecaster } from '../../models/types.js';
import { renderModelCard } from '../../scripts/train/forecast-card.js';
import { buildExamples, parseOccupancyCsv, type TimedReading } from '../../scripts/train/forecast-data.js';
import { fitLinear, predictLinear } from '../../agent/telemetry/calibration/linear.js';
import { foldEnsemble, predictFolded, seededRandom, trainMlp } from '../../scripts/train/forecast-mlp.js';
import { buildForecastOnnx, largestOnnxDeviation } from '../../scripts/train/forecast-onnx.js';
import { predictCelsius, trainForecaster, type TrainedForecaster } from '../../scripts/train/forecast-training.js';
import { occupancyCsv } from './forecast-windows.js';

const HEADER = '"date","Temperature","Humidity","Light","CO2","HumidityRatio","Occupancy"';
const row = (n: number, date: string, celsius: string) => `"${n}","${date}",${celsius},27.2,426,721.25,0.0047,1`;

describe('parseOccupancyCsv', () => {
  it('reads the real training file, placing :59 s stamps on the next minute', () => {
    const readings = parseOccupancyCsv(occupancyCsv('datatraining.txt'));
    expect(readings).toHaveLength(8143);
    const start = Date.UTC(2015, 1, 4, 17, 51) / 60_000;
    // 17:51:00, 17:51:59, 17:53:00: one reading per minute.
    expect(readings.slice(0, 3)).toEqual([
      { minute: start, celsius: 23.18 },
      { minute: start + 1, celsius: 23.15 },
      { minute: start + 2, celsius: 23.15 },
    ]);
  });

  it('accepts CRLF and rows without the row number; names the line of a bad row', () => {
    const text = [HEADER, row(1, '2015-02-04 17:51:00', '23.18'), '"2015-02-04 17:52:00",23.2,27.2,426,721.25,0.0047,1', ''].join('\r\n');
    expect(parseOccupancyCsv(text).map((r) => r.celsius)).toEqual([23.18, 23.2]);
    expect(() => parseOccupancyCsv([HEADER, row(1, '04/02/2015 17:51', '23.18')].join('\n'), 'x.txt')).toThrow(
      'x.txt line 2: timestamp "04/02/2015 17:51" is not "YYYY-MM-DD hh:mm:ss"',
    );
    expect(() => parseOccupancyCsv([HEADER, row(1, '2015-02-04 17:51:00', 'NA')].join('\n'), 'x.txt')).toThrow('x.txt line 2: Temperature "NA" is not a number');
    const sameMinute = [HEADER, row(1, '2015-02-04 17:51:00', '23'), row(2, '2015-02-04 17:51:20', '23')].join('\n');
    expect(() => parseOccupancyCsv(sameMinute, 'x.txt')).toThrow('x.txt line 3: reading is not after the previous one');
    expect(() => parseOccupancyCsv('"when","celsius"\n', 'x.txt')).toThrow('x.txt: header must name "date" and "Temperature"');
  });
});

describe('buildExamples', () => {
  it('cuts only windows of consecutive minutes whose target is exactly one horizon later', () => {
    // Minutes 0..199 without minute 100; each reading's value is its minute, so windows are easy to check.
    const readings: TimedReading[] = [];
    for (let minute = 0; minute < 200; minute++) if (minute !== 100) readings.push({ minute, celsius: minute });
    const { windows, targets, lastMinutes } = buildExamples(readings, 60, 60);
    // Before the gap, windows ending at 59..99 have targets 119..159; after it, no target exists.
    expect(Array.from(lastMinutes)).toEqual(Array.from({ length: 41 }, (_, i) => 59 + i));
    windows.forEach((w, i) => {
      expect(Array.from(w)).toEqual(Array.from({ length: 60 }, (_, k) => (lastMinutes[i] as number) - 59 + k));
      expect(targets[i]).toBe((lastMinutes[i] as number) + 60);
    });
  });
});

describe('the training maths', () => {
  it('least squares recovers exact coefficients, with and without an intercept', () => {
    const random = seededRandom(7);
    const rows = Array.from({ length: 200 }, () => Float64Array.from([random() * 10, random() * 10, random() * 10]));
    const withIntercept = fitLinear(rows, Float64Array.from(rows, (x) => 2 * x[0]! - 3 * x[1]! + 0.5 * x[2]! + 4));
    expect(Array.from(withIntercept.weights).map((w) => Number(w.toFixed(9)))).toEqual([2, -3, 0.5]);
    expect(withIntercept.bias).toBeCloseTo(4, 9);
    const noIntercept = fitLinear(rows, Float64Array.from(rows, (x) => x[0]! - x[2]!), { intercept: false });
    expect(noIntercept.bias).toBe(0);
    expect(predictLinear(noIntercept, [1, 1, 3])).toBeCloseTo(-2, 9);
  });

  it('the network learns a kink a line cannot, reproducibly per seed, and an ensemble folds into one network', () => {
    const random = seededRandom(3);
    const rows = Array.from({ length: 400 }, () => Float64Array.from([random() * 4 - 2]));
    const targets = Float64Array.from(rows, (x) => Math.abs(x[0]!));
    const options = { hidden: 8, epochs: 200, batchSize: 32, learningRate: 0.01, weightDecay: 0, huberDelta: 10, seed: 1 };
    const net = trainMlp(rows, targets, options);
    expect(trainMlp(rows, targets, options)).toEqual(net);
    expect(trainMlp(rows, targets, { ...options, seed: 2 })).not.toEqual(net);

    const folded = foldEnsemble([net]);
    const line = fitLinear(rows, targets);
    const error = (f: (x: Float64Array) => number) => rows.reduce((sum, x, i) => sum + Math.abs(f(x) - targets[i]!), 0) / rows.length;
    expect(error((x) => predictFolded(folded, x))).toBeLessThan(0.1);
    expect(error((x) => predictLinear(line, x))).toBeGreaterThan(0.4);

    const twice = foldEnsemble([net, net]);
    expect(twice.hidden).toBe(16);
    for (const x of [-1.5, 0, 0.7]) expect(predictFolded(twice, [x])).toBeCloseTo(predictFolded(folded, [x]), 12);
  });
});

describe('trainForecaster on the occupancy files', () => {
  let trained: TrainedForecaster;
  let forecaster: Forecaster;

  beforeAll(async () => {
    trained = trainForecaster(occupancyCsv('datatraining.txt'), occupancyCsv('datatest.txt'));
    forecaster = await loadForecaster();
  }, 120_000);
  afterAll(async () => {
    await forecaster?.close();
  });

  it('reproduces the committed model file and model card byte for byte', async () => {
    const bytes = buildForecastOnnx(trained);
    const committed = await readFile(shippedModelPath('temperature-forecast.onnx'));
    expect(Buffer.from(bytes).equals(committed), 'models/temperature-forecast.onnx differs from a fresh training run: run npm run train:forecast').toBe(true);
    expect(renderModelCard(trained, bytes)).toBe(await readFile(shippedModelPath('temperature-forecast.md'), 'utf8'));
  });

  it('measures the fixtures README baselines and beats them by the issue margin', () => {
    const { model, persistence, leastSquares, leastSquaresNoIntercept } = trained.metrics;
    expect(trained.counts).toEqual({ trainingReadings: 8143, trainingWindows: 8024, testReadings: 2665, testWindows: 2546 });
    expect(persistence).toBeCloseTo(0.283, 3);
    expect(leastSquaresNoIntercept).toBeCloseTo(0.2, 3);
    expect(model).toBeLessThanOrEqual(0.8 * persistence);
    expect(model).toBeLessThanOrEqual(Math.min(leastSquares, leastSquaresNoIntercept));
  });

  it('runs in onnxruntime as in the script: within 1e-4 °C raw, and the rounded runtime answer for every test window', async () => {
    const windows = trained.test.windows;
    const expected = windows.map((w) => predictCelsius(trained.model, w));
    expect(await largestOnnxDeviation(buildForecastOnnx(trained), windows, expected)).toBeLessThan(1e-4);
    const runtime = await forecaster.forecastBatch(windows.map((w) => Array.from(w)));
    runtime.forEach((p, i) => expect(Math.abs(p - expected[i]!)).toBeLessThanOrEqual(0.005 + 1e-4));
    // A known window (the first of datatest.txt) through the single-window path.
    expect(await forecaster.forecast(Array.from(windows[0]!))).toBe(runtime[0]);
  });
});
