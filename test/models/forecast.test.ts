import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shippedModelPath } from '../../agent/lib/paths.js';
import { InvalidInputError, ModelLoadError } from '../../models/errors.js';
import { loadForecaster, parseForecastContract, validateWindow } from '../../models/forecast.js';
import { readOnnxMetadata } from '../../models/onnx-proto.js';
import type { Forecaster } from '../../models/types.js';
import { fixture } from '../helpers/fixtures.js';
import { testWindows, writeLastValueModel } from './forecast-windows.js';

const plausible = fc.double({ min: -60, max: 125, noNaN: true });
const CONTRACT_METADATA = { window: '60', step_s: '60', horizon_s: '3600', unit: 'Celsius' };

describe('validateWindow', () => {
  it('returns a copy of any 60 finite readings in -60..125 °C', () => {
    fc.assert(
      fc.property(fc.array(plausible, { minLength: 60, maxLength: 60 }), (values) => {
        const checked = validateWindow(values);
        expect(checked).toEqual(values);
        expect(checked).not.toBe(values);
      }),
    );
  });

  it('names the count received when there are not exactly 60 values', () => {
    fc.assert(
      fc.property(fc.array(plausible, { maxLength: 200 }).filter((a) => a.length !== 60), (values) => {
        expect(() => validateWindow(values)).toThrow(new InvalidInputError(`exactly 60 temperature values are required, received ${values.length}`));
      }),
    );
  });

  it('names the index and value of the first bad reading', () => {
    const bad = fc.constantFrom<[unknown, string]>(
      [Number.NaN, 'is not a finite number: NaN'],
      [Number.POSITIVE_INFINITY, 'is not a finite number: Infinity'],
      ['21.5', 'is not a number: "21.5"'],
      [null, 'is not a number: null'],
      [[21.5], 'is not a number: [21.5]'],
      [{ celsius: 21 }, 'is not a number: {"celsius":21}'],
      [undefined, 'is not a number: undefined'],
      [125.01, 'is outside the plausible range -60 to 125 °C: 125.01'],
      [-60.5, 'is outside the plausible range -60 to 125 °C: -60.5'],
    );
    fc.assert(
      fc.property(fc.array(plausible, { minLength: 60, maxLength: 60 }), fc.nat(59), bad, (values, index, [value, reason]) => {
        const window: unknown[] = [...values];
        window[index] = value;
        expect(() => validateWindow(window)).toThrow(new InvalidInputError(`value at index ${index} ${reason}`));
      }),
    );
  });

  it('rejects what is not an array, and honours another window length', () => {
    expect(() => validateWindow('21,22')).toThrow('expected an array of exactly 60 temperature values, got string');
    expect(() => validateWindow(null)).toThrow('got null');
    expect(() => validateWindow({ values: [] })).toThrow('got object');
    expect(validateWindow([1, 2, 3], 3)).toEqual([1, 2, 3]);
    expect(() => validateWindow([1, 2, 3])).toThrow('received 3');
    // A hole in a sparse array is a missing reading, not a zero.
    expect(() => validateWindow(new Array(60))).toThrow('value at index 0 is not a number: undefined');
  });
});

describe('parseForecastContract', () => {
  it('reads window, step, horizon and unit, and says what is missing or wrong', () => {
    expect(parseForecastContract(CONTRACT_METADATA)).toEqual({ window: 60, step_s: 60, horizon_s: 3600, unit: 'Celsius' });
    expect(parseForecastContract({ unit: 'Celsius' })).toBe('no forecaster contract in the ONNX metadata: missing window, step_s, horizon_s');
    expect(parseForecastContract({ ...CONTRACT_METADATA, window: '6O' })).toBe('metadata window must be a positive integer, found "6O"');
    expect(parseForecastContract({ ...CONTRACT_METADATA, horizon_s: '0' })).toBe('metadata horizon_s must be a positive integer, found "0"');
    expect(parseForecastContract({ ...CONTRACT_METADATA, unit: 'Fahrenheit' })).toBe('metadata unit must be "Celsius", found "Fahrenheit"');
  });
});

describe('the shipped forecaster', () => {
  let forecaster: Forecaster;
  const { windows, targets } = testWindows();

  beforeAll(async () => {
    forecaster = await loadForecaster();
  });
  afterAll(async () => {
    await forecaster.close();
  });

  it('states its contract and identity from the file', async () => {
    const path = shippedModelPath('temperature-forecast.onnx');
    const bytes = await readFile(path);
    const metadata = readOnnxMetadata(bytes);
    expect(forecaster.contract).toEqual({ window: 60, step_s: 60, horizon_s: 3600, unit: 'Celsius' });
    expect(forecaster.info).toEqual({
      name: 'temperature-forecast',
      version: metadata.version,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      path,
    });
    expect(metadata.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(metadata.training_data).toContain('Candanedo and Feldheim, 2016), CC BY 4.0');
    expect(Number(metadata.validation_mae_celsius)).toBeLessThan(Number(metadata.validation_mae_persistence_celsius) * 0.8);
  });

  it('forecasts the test file an hour ahead with an error well below persistence, rounded to 2 decimals', async () => {
    const predictions = await forecaster.forecastBatch(windows);
    expect(predictions).toHaveLength(windows.length);
    let modelError = 0;
    let persistenceError = 0;
    predictions.forEach((p, i) => {
      expect(Math.round(p * 100) / 100).toBe(p);
      modelError += Math.abs(p - (targets[i] as number));
      persistenceError += Math.abs((windows[i] as number[])[59]! - (targets[i] as number));
    });
    expect(modelError / windows.length).toBeLessThan((0.8 * persistenceError) / windows.length);
  });

  it('gives the same answer one window at a time as in a batch, in order', async () => {
    const sample = windows.filter((_, i) => i % 97 === 0);
    const batch = await forecaster.forecastBatch(sample);
    const single = await Promise.all(sample.map((w) => forecaster.forecast(w)));
    expect(single).toEqual(batch);
    expect(new Set(batch).size).toBeGreaterThan(sample.length / 2);
    expect(await forecaster.forecastBatch([])).toEqual([]);
  });

  it('states its training range; just outside it behaves as at the nearest end, further out it forecasts the shape at the range\'s middle', async () => {
    expect(forecaster.levelRange).toEqual({ min: 19, max: 23.1, margin: 0.25 });
    // A real hour of the office (not flat: its shape moves the forecast), moved so that it ends at `last`.
    const hour = windows.find((w) => Math.abs(w[59]! - w[0]!) > 0.3)!;
    const endingAt = (last: number) => hour.map((v) => v + last - hour[59]!);
    const change = async (last: number) => (await forecaster.forecast(endingAt(last))) - last;
    const atMiddle = await change(21.05);
    const atTop = await change(23.1);
    expect(Math.abs(atTop - atMiddle)).toBeGreaterThan(0.05);
    // 0.2 °C above the range: as at its top (the level is clamped); 0.3 °C above and beyond: as at its middle.
    expect(await change(23.3)).toBeCloseTo(atTop, 1);
    for (const last of [23.4, 30, 45, 5, -20]) expect(await change(last)).toBeCloseTo(atMiddle, 1);
  });

  it('rejects bad windows with the reason, naming the window in a batch', async () => {
    await expect(forecaster.forecast(windows[0]!.slice(1))).rejects.toThrow(new InvalidInputError('exactly 60 temperature values are required, received 59'));
    await expect(forecaster.forecast([])).rejects.toBeInstanceOf(InvalidInputError);
    const broken = [windows[0]!, windows[1]!, [...windows[2]!.slice(0, 59), Number.NaN]];
    await expect(forecaster.forecastBatch(broken)).rejects.toThrow(new InvalidInputError('window 2: value at index 59 is not a finite number: NaN'));
  });
});

describe('loadForecaster', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edge-agent-forecast-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads any model with a contract, whatever its window, and lets the caller set the version', async () => {
    const path = await writeLastValueModel(dir, 'last3.onnx', 3, { window: '3', step_s: '600', horizon_s: '1800', unit: 'Celsius' });
    const forecaster = await loadForecaster(path, { version: '2024.06-rc1' });
    try {
      expect(forecaster.contract).toEqual({ window: 3, step_s: 600, horizon_s: 1800, unit: 'Celsius' });
      expect(forecaster.info).toMatchObject({ name: 'last3', version: '2024.06-rc1', path });
      expect(await forecaster.forecast([20, 21, 22.456])).toBe(22.46);
      expect(await forecaster.forecastBatch([[1, 2, 3], [4, 5, -6.004]])).toEqual([3, -6]);
    } finally {
      await forecaster.close();
    }
    await expect(forecaster.forecast([1, 2, 3])).rejects.toThrow('forecaster last3 2024.06-rc1 is closed');
    await forecaster.close();
  });

  it('names the file and the problem for unusable models', async () => {
    const missing = join(dir, 'missing.onnx');
    await expect(loadForecaster(missing)).rejects.toThrow(new ModelLoadError(missing, 'cannot read the model file: no such file'));

    const garbage = join(dir, 'garbage.onnx');
    await writeFile(garbage, 'definitely not protobuf \u0000\u0001\u00ff');
    await expect(loadForecaster(garbage)).rejects.toThrow(/garbage\.onnx: not an ONNX model/);

    const detector = fixture('models/yolov8n-int8.onnx');
    await expect(loadForecaster(detector)).rejects.toThrow(
      new ModelLoadError(detector, 'no forecaster contract in the ONNX metadata: missing window, step_s, horizon_s, unit'),
    );

    const fahrenheit = await writeLastValueModel(dir, 'fahrenheit.onnx', 60, { ...CONTRACT_METADATA, unit: 'Fahrenheit' });
    await expect(loadForecaster(fahrenheit)).rejects.toThrow(new ModelLoadError(fahrenheit, 'metadata unit must be "Celsius", found "Fahrenheit"'));

    const mismatched = await writeLastValueModel(dir, 'mismatched.onnx', 30, CONTRACT_METADATA);
    await expect(loadForecaster(mismatched)).rejects.toThrow(
      new ModelLoadError(mismatched, "input window has shape [batch, 30], the metadata's window needs [batch, 60]"),
    );
  });
});
