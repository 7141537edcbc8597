/**
 * Self-scoring and the fallback to persistence, through the pipeline the daemon runs, with real ONNX
 * forecasters (the shipped model, and a deliberately biased one built like the calibrated room models).
 * The readings' timestamps are the clock: a day of data runs in a second.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PayloadValidator } from '../../agent/mqtt/contract/schemas.js';

const contract = new PayloadValidator();
import type { ForecastScorePayload, TemperatureForecastPayload } from '../../agent/mqtt/contract/topics.js';
import type { SqliteStore } from '../../agent/store/store.js';
import type { TelemetryPipeline } from '../../agent/telemetry/pipeline.js';
import { chooseServed } from '../../agent/telemetry/fallback.js';
import { loadForecaster } from '../../models/forecast.js';
import type { Forecaster } from '../../models/types.js';
import { parseOccupancyCsv } from '../../scripts/train/forecast-data.js';
import { occupancyCsv } from '../models/forecast-windows.js';
import { HOUR, MINUTE, minuteReadings, openStore, T0, telemetryRig, writeLinearForecaster } from './rig.js';

let dir: string;
const opened: { store: SqliteStore; pipeline: TelemetryPipeline; forecaster: Forecaster }[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edge-agent-scoring-'));
});
afterEach(async () => {
  for (const { store, pipeline, forecaster } of opened.splice(0)) {
    await pipeline.stop();
    store.close();
    await forecaster.close();
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

describe('self-scoring', () => {
  it('scores every forecast once the reading at its target time is stored, and publishes the rolling errors retained', async () => {
    // Eight hours of the office (datatest.txt), one reading a minute, through the shipped model.
    const rows = parseOccupancyCsv(occupancyCsv('datatest.txt')).slice(0, 8 * 60);
    const readings = rows.map((r) => ({ valid: true as const, celsius: r.celsius, ts: r.minute * MINUTE, sensor: 'list' }));
    const forecaster = await loadForecaster();
    const store = openStore();
    const rig = telemetryRig({ readings, forecaster, store, forecast: { every_s: 600 } });
    opened.push({ store, pipeline: rig.pipeline, forecaster });
    await rig.pipeline.start();
    await expect.poll(() => rig.outbox('telemetry/temperature').length === readings.length).toBe(true);

    const at = new Map(readings.map((r) => [r.ts, r.celsius]));
    const lastTs = readings.at(-1)!.ts;
    const forecasts = rig.outbox<TemperatureForecastPayload>('forecast/temperature');
    const matured = forecasts.filter((f) => Date.parse(f.based_on.to) + f.horizon_s * 1000 <= lastTs - 30_000);
    expect(matured.length).toBeGreaterThan(30);
    const actual = (f: TemperatureForecastPayload) => at.get(Date.parse(f.based_on.to) + f.horizon_s * 1000)!;
    const modelMae = mean(matured.map((f) => Math.abs(f.predicted_celsius - actual(f))));
    const persistenceMae = mean(matured.map((f) => Math.abs(at.get(Date.parse(f.based_on.to))! - actual(f))));

    const scores = rig.outbox<ForecastScorePayload>('forecast/score');
    expect(rig.retained('forecast/score')).toBe(true);
    for (const score of scores) expect(contract.problems('forecast/score', JSON.stringify(score))).toEqual([]);
    const last = scores.at(-1)!;
    expect(last).toMatchObject({ device: 'dev', model: { name: 'temperature-forecast', version: '1.1.0' }, fallback: { active: false, reason: null } });
    expect(last.last_24h.scored).toBe(matured.length);
    expect(last.last_24h.mae_celsius).toBeCloseTo(modelMae, 3);
    expect(last.last_24h.persistence_mae_celsius).toBeCloseTo(persistenceMae, 3);
    expect(last.last_24h.skill).toBeCloseTo(1 - modelMae / persistenceMae, 2);
    expect(last.last_24h.skill).toBeGreaterThan(0);
    expect(last.last_7d).toEqual(last.last_24h);
    // One score message per reading that matured forecasts: the count grows by one forecast at a time.
    expect(scores.map((s) => s.last_24h.scored)).toEqual(Array.from({ length: scores.length }, (_, i) => i + 1));
    expect(rig.pipeline.health()).toMatchObject({ forecast_served_by: 'model', forecasts_scored: matured.length, score_24h: last.last_24h });
  });
});

describe('the fallback to persistence', () => {
  it('serves persistence with the reason while the model loses to it over 24 h, and the model again once it wins', async () => {
    // A model that always says "1 °C warmer in an hour": wrong while the room is flat, right while it rises 1 °C an hour.
    const path = await writeLinearForecaster(dir, 'warmer.onnx', { bias: 1, name: 'warmer' });
    const forecaster = await loadForecaster(path);
    const flat = new Array<number>(4 * 60).fill(20);
    const rising = Array.from({ length: 10 * 60 }, (_, i) => Math.round((20 + i / 60) * 100) / 100);
    const readings = minuteReadings([...flat, ...rising]);
    const store = openStore();
    const rig = telemetryRig({ readings, forecaster, store, forecast: { every_s: 300, fallback: { enabled: true, min_scored: 4, margin: 0.1 } } });
    opened.push({ store, pipeline: rig.pipeline, forecaster });
    await rig.pipeline.start();
    await expect.poll(() => rig.outbox('telemetry/temperature').length === readings.length).toBe(true);

    const forecasts = rig.outbox<TemperatureForecastPayload>('forecast/temperature');
    for (const f of forecasts) expect(contract.problems('forecast/temperature', JSON.stringify(f))).toEqual([]);
    const served = forecasts.map((f) => f.model.name);
    const firstFallback = served.indexOf('persistence');
    const lastFallback = served.lastIndexOf('persistence');
    // The model until 4 forecasts were scored, persistence while it lost, the model again at the end.
    expect(firstFallback).toBeGreaterThan(0);
    expect(served.slice(0, firstFallback).every((name) => name === 'warmer')).toBe(true);
    expect(served.slice(firstFallback, lastFallback + 1).every((name) => name === 'persistence')).toBe(true);
    expect(served.slice(lastFallback + 1).length).toBeGreaterThan(10);
    expect(served.slice(lastFallback + 1).every((name) => name === 'warmer')).toBe(true);

    const fallback = forecasts[firstFallback]!;
    expect(fallback.model).toEqual({
      name: 'persistence',
      version: '1',
      reason: expect.stringMatching(/^warmer 1 was worse than persistence over the last 24 h \(mean error 1\.00 °C against 0\.00 °C on 4 forecasts\)/),
      instead_of: { name: 'warmer', version: '1' },
    });
    // Persistence: the window's last reading.
    expect(fallback.predicted_celsius).toBe(20);
    const back = forecasts[lastFallback + 1]!;
    expect(back.model).toEqual({ name: 'warmer', version: '1' });
    const lastReading = [...flat, ...rising][(Date.parse(back.based_on.to) - T0) / MINUTE]!;
    expect(back.predicted_celsius).toBeCloseTo(lastReading + 1, 2);

    // The model kept being scored while persistence was served: that is how it won again.
    const scores = rig.outbox<ForecastScorePayload>('forecast/score');
    expect(scores.some((s) => s.fallback.active)).toBe(true);
    const last = scores.at(-1)!;
    expect(last.fallback).toEqual({ active: false, reason: null });
    expect(last.last_24h.mae_celsius!).toBeLessThan(last.last_24h.persistence_mae_celsius!);
    expect(last.last_24h.scored).toBe(forecasts.filter((f) => Date.parse(f.based_on.to) + HOUR <= readings.at(-1)!.ts - 30_000).length);
  });

  it('switches to persistence only when the model is margin worse, and back as soon as it is better', () => {
    const config = { enabled: true, min_scored: 10, margin: 0.1 };
    const model = { name: 'm', version: '1' };
    const summary = (modelMae: number, persistenceMae: number, scored = 50) => ({ scored, model_mae: modelMae, persistence_mae: persistenceMae, served_mae: null });
    // 5% worse: a near-tie, the model stays; 15% worse: persistence.
    expect(chooseServed(config, model, summary(0.21, 0.2), 'model')).toEqual({ served: 'model' });
    expect(chooseServed(config, model, summary(0.23, 0.2), 'model')).toMatchObject({ served: 'persistence', reason: expect.stringContaining('(mean error 0.23 °C against 0.20 °C on 50 forecasts)') });
    // Once on persistence, 5% worse keeps it there; better brings the model back.
    expect(chooseServed(config, model, summary(0.21, 0.2), 'persistence')).toMatchObject({ served: 'persistence' });
    expect(chooseServed(config, model, summary(0.19, 0.2), 'persistence')).toEqual({ served: 'model' });
    expect(chooseServed(config, model, summary(0.5, 0.2, 9), 'persistence')).toEqual({ served: 'model' });
  });

  it('never switches with fewer scored forecasts than min_scored, nor when turned off', async () => {
    const path = await writeLinearForecaster(dir, 'warmer-off.onnx', { bias: 1, name: 'warmer' });
    const readings = minuteReadings(new Array<number>(5 * 60).fill(20));
    for (const fallback of [{ enabled: true, min_scored: 1000, margin: 0.1 }, { enabled: false, min_scored: 1, margin: 0.1 }]) {
      const forecaster = await loadForecaster(path);
      const store = openStore();
      const rig = telemetryRig({ readings, forecaster, store, forecast: { every_s: 300, fallback } });
      opened.push({ store, pipeline: rig.pipeline, forecaster });
      await rig.pipeline.start();
      await expect.poll(() => rig.outbox('telemetry/temperature').length === readings.length).toBe(true);
      expect(new Set(rig.outbox<TemperatureForecastPayload>('forecast/temperature').map((f) => f.model.name))).toEqual(new Set(['warmer']));
      expect(rig.outbox<ForecastScorePayload>('forecast/score').at(-1)!.last_24h).toMatchObject({ mae_celsius: 1, persistence_mae_celsius: 0 });
    }
  });
});
