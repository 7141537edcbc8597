import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../agent/runtime/event-bus.js';
import { silentLogger } from '../../agent/lib/log.js';
import type { SqliteStore } from '../../agent/store/store.js';
import type { TelemetryPipeline } from '../../agent/telemetry/pipeline.js';
import type { Reading } from '../../drivers/sensors/types.js';
import type { Forecaster } from '../../models/types.js';
import { SimulatedSensor } from '../../drivers/sensors/simulated.js';
import { MINUTE, openStore, T0, telemetryRig } from './rig.js';


/**
 * A forecaster whose prediction shows which window it got: the last value plus the window's mean slope
 * times 60 steps. (The real ONNX forecaster runs in the end-to-end tests.)
 */
class WindowEchoForecaster implements Forecaster {
  readonly info = { name: 'echo', version: '1', sha256: '0'.repeat(64), path: '/dev/null' };
  readonly contract = { window: 60, step_s: 60, horizon_s: 3600, unit: 'Celsius' as const };
  windows: number[][] = [];
  async forecast(values: readonly number[]) {
    this.windows.push([...values]);
    return Number((values.at(-1)! + 60 * ((values.at(-1)! - values[0]!) / 59)).toFixed(2));
  }
  async forecastBatch(windows: readonly (readonly number[])[]) {
    return Promise.all(windows.map((w) => this.forecast(w)));
  }
  async close() {}
}

function valid(i: number, celsius = 20 + i / 100): Reading {
  return { valid: true, celsius, ts: T0 + i * MINUTE, sensor: 'list' };
}

const stores: SqliteStore[] = [];
const pipelines: TelemetryPipeline[] = [];
afterEach(async () => {
  for (const p of pipelines.splice(0)) await p.stop();
  for (const s of stores.splice(0)) s.close();
});

function setup(readings: Reading[], opts: { every_s?: number; high_c?: number | null; store?: SqliteStore } = {}) {
  const store = opts.store ?? openStore();
  if (!opts.store) stores.push(store);
  const forecaster = new WindowEchoForecaster();
  const bus = new EventBus(silentLogger());
  const skipped: string[] = [];
  bus.on('forecast.skipped', {}, (e) => skipped.push(e.reason));
  // As the agent builds it: resuming the alerts' state saved before a restart.
  const { pipeline, outbox } = telemetryRig({ readings, forecaster, store, bus, forecast: { every_s: opts.every_s ?? 600, high_c: opts.high_c ?? null, low_c: null, hysteresis_c: 0.5 } });
  pipelines.push(pipeline);
  return { store, pipeline, forecaster, outbox, skipped };
}

describe('TelemetryPipeline', () => {
  it('stores and publishes every reading, invalid ones flagged with their reason', async () => {
    const readings: Reading[] = [valid(0), { valid: false, error: 'CRC mismatch', ts: T0 + MINUTE, sensor: 'list' }, valid(2)];
    const { pipeline, outbox, store } = setup(readings);
    await pipeline.start();
    await expect.poll(() => outbox('telemetry/temperature').length === 3).toBe(true);
    const published = outbox('telemetry/temperature');
    expect(published.map((p) => p.valid)).toEqual([true, false, true]);
    expect(published[1]).toMatchObject({ celsius: null, error: 'CRC mismatch', ts: new Date(T0 + MINUTE).toISOString() });
    expect(store.validReadingsSince(0).map((r) => r.ts)).toEqual([T0, T0 + 2 * MINUTE]);
    expect(pipeline.health()).toMatchObject({ readings: 3, invalid: 1 });
  });

  it('forecasts on data time: at the first complete window, then every every_s of the readings\' timestamps', async () => {
    const readings = Array.from({ length: 90 }, (_, i) => valid(i));
    const { pipeline, outbox, forecaster, skipped } = setup(readings, { every_s: 600 });
    await pipeline.start();
    await expect.poll(() => outbox('telemetry/temperature').length === 90).toBe(true);
    const forecasts = outbox('forecast/temperature');
    // 57 of 60 steps is the first window with few enough missing (3 steps in a row may be filled in).
    expect(forecasts.map((f) => (f.based_on as { to: string }).to)).toEqual(
      [56, 66, 76, 86].map((i) => new Date(T0 + i * MINUTE).toISOString()),
    );
    expect(forecasts[1]).toMatchObject({ horizon_s: 3600, unit: 'Celsius', based_on: { from: new Date(T0 + 7 * MINUTE).toISOString(), n: 60 } });
    // The window of the second forecast is exactly readings 7..66.
    expect(forecaster.windows[1]).toEqual(Array.from({ length: 60 }, (_, k) => 20 + (k + 7) / 100));
    expect(skipped[0]).toMatch(/^only 1 of 60 steps of 60 s have a valid reading/);
  });

  it('never uses invalid readings as values: their steps are interpolated', async () => {
    const readings: Reading[] = Array.from({ length: 60 }, (_, i) =>
      i === 30 ? { valid: false, error: 'implausible value 85.0', ts: T0 + i * MINUTE, sensor: 'list' } : valid(i, i === 30 ? 85 : 20),
    );
    const { pipeline, forecaster } = setup(readings);
    await pipeline.start();
    await expect.poll(() => forecaster.windows.length === 1).toBe(true);
    expect(Math.max(...forecaster.windows[0]!)).toBe(20);
  });

  it('after a restart the window comes back from the store: the first reading forecasts at once', async () => {
    const first = setup(Array.from({ length: 60 }, (_, i) => valid(i)), { every_s: 3600 });
    await first.pipeline.start();
    await expect.poll(() => first.outbox('telemetry/temperature').length === 60).toBe(true);
    await first.pipeline.stop();
    expect(first.outbox('forecast/temperature')).toHaveLength(1);
    const second = setup([valid(61)], { every_s: 3600, store: first.store });
    await second.pipeline.start();
    await expect.poll(() => second.outbox('forecast/temperature').length === 2).toBe(true);
    expect(second.forecaster.windows[0]).toHaveLength(60);
  });

  it('skips with a reason when too many steps are missing, and says it in health', async () => {
    const readings = Array.from({ length: 60 }, (_, i) => valid(i)).filter((_, i) => i < 20 || i > 30);
    const { pipeline, outbox, skipped } = setup(readings);
    await pipeline.start();
    await expect.poll(() => outbox('telemetry/temperature').length === readings.length).toBe(true);
    expect(outbox('forecast/temperature')).toEqual([]);
    expect(skipped.length).toBeGreaterThan(0);
    expect(pipeline.health()).toMatchObject({ state: 'degraded', detail: expect.stringMatching(/^forecast skipped: only 49 of 60 steps .*at most 6 may be missing$/) });
  });

  it('raises a temperature alert in the same transaction as the forecast that crossed high_c', async () => {
    // A steady rise of 0.02 °C a minute: the forecast (last + 1.2) crosses 22 °C.
    const readings = Array.from({ length: 70 }, (_, i) => valid(i, 20 + i * 0.02));
    const { pipeline, outbox } = setup(readings, { every_s: 60, high_c: 22 });
    await pipeline.start();
    await expect.poll(() => outbox('telemetry/temperature').length === 70).toBe(true);
    const alerts = outbox('alerts/temperature');
    expect(alerts).toHaveLength(1);
    const crossing = outbox('forecast/temperature').find((f) => f.id === alerts[0]!.forecast_id)!;
    expect(crossing.predicted_celsius as number).toBeGreaterThanOrEqual(22);
    expect(alerts[0]).toMatchObject({ kind: 'high', threshold_c: 22, device: 'dev', horizon_s: 3600, ts: crossing.ts });
  });

  it('does not raise the same alert again after a restart, unless the threshold changed', async () => {
    const rising = (from: number, count: number) => Array.from({ length: count }, (_, i) => valid(from + i, 20 + (from + i) * 0.02));
    const first = setup(rising(0, 70), { every_s: 60, high_c: 22 });
    await first.pipeline.start();
    await expect.poll(() => first.outbox('telemetry/temperature').length === 70).toBe(true);
    await first.pipeline.stop();
    expect(first.outbox('alerts/temperature').map((a) => a.kind)).toEqual(['high']);

    const forecastsBefore = first.outbox('forecast/temperature').length;
    const sameThreshold = setup(rising(70, 3), { every_s: 60, high_c: 22, store: first.store });
    await sameThreshold.pipeline.start();
    await expect.poll(() => sameThreshold.outbox('forecast/temperature').length === forecastsBefore + 3).toBe(true);
    await sameThreshold.pipeline.stop();
    expect(sameThreshold.outbox('alerts/temperature')).toHaveLength(1); // still high: nothing new to say

    const newThreshold = setup(rising(73, 1), { every_s: 60, high_c: 21.5, store: first.store });
    await newThreshold.pipeline.start();
    await expect.poll(() => newThreshold.outbox('alerts/temperature').length === 2).toBe(true);
    expect(newThreshold.outbox('alerts/temperature')[1]).toMatchObject({ kind: 'high', threshold_c: 21.5 });
  });

  it('forecasts on demand from the latest reading', async () => {
    const { pipeline, outbox } = setup(Array.from({ length: 60 }, (_, i) => valid(i)), { every_s: 100_000 });
    expect(await pipeline.forecastNow()).toEqual({ ok: false, reason: 'no valid reading since the agent started' });
    await pipeline.start();
    await expect.poll(() => outbox('telemetry/temperature').length === 60).toBe(true);
    const outcome = await pipeline.forecastNow();
    expect(outcome.ok && outcome.record.to_ts).toBe(T0 + 59 * MINUTE);
    expect(outbox('forecast/temperature').at(-1)!.id).toBe(outcome.ok && outcome.record.id);
  });

  it('stores the simulated sensor\'s hour of history at start, so its first reading forecasts at once, and never twice', async () => {
    const store = openStore();
    stores.push(store);
    let now = T0;
    const clock = { now: () => (now += 10_000), monotonic: () => now };
    const run = async () => {
      const forecaster = new WindowEchoForecaster();
      const rig = telemetryRig({ readings: new SimulatedSensor(3, clock), forecaster, store });
      pipelines.push(rig.pipeline);
      await rig.pipeline.start();
      await expect.poll(() => rig.outbox('forecast/temperature').length > 0).toBe(true);
      await rig.pipeline.stop();
      return { rig, forecaster };
    };
    const first = await run();
    const history = first.rig.outbox<{ sensor: string; ts: string }>('telemetry/temperature').filter((t) => t.sensor === 'sim-history');
    expect(history).toHaveLength(60);
    const [forecast] = first.rig.outbox<{ based_on: { to: string } }>('forecast/temperature');
    // The first forecast's window ends at the first live reading: the hour before it is the history.
    const firstLive = first.rig.outbox<{ sensor: string; ts: string }>('telemetry/temperature').find((t) => t.sensor === 'sim')!;
    expect(forecast!.based_on.to).toBe(firstLive.ts);
    expect(first.forecaster.windows[0]).toHaveLength(60);

    const second = await run();
    expect(second.rig.outbox<{ sensor: string }>('telemetry/temperature').filter((t) => t.sensor === 'sim-history')).toHaveLength(60);
  });
});
