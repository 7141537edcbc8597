/**
 * The telemetry pipeline: read the sensor, store and publish every reading (invalid ones flagged with
 * their reason, never used as values), and forecast from the last `window` steps of valid readings in
 * SQLite, alerting on forecast threshold crossings.
 *
 * Forecast cadence and windows run on DATA time, the readings' own timestamps: a replay at speed 600
 * forecasts every `every_s` of the file's time, and a restart needs no warm-up because the window comes
 * back from the store. The first valid reading after a start forecasts at once (if the stored window is
 * complete); then one every `every_s`. A window with too many holes is skipped with its reason (logged,
 * in health, on the bus) and tried again at the next reading.
 *
 * Every forecast is scored once the reading at its target time is stored (self-scoring.ts); while the
 * model has lost to persistence over the last 24 h, persistence is served instead, with the reason.
 */
import type { TemperatureSensor, Reading } from '../../drivers/sensors/index.js';
import type { Forecaster, LevelRange } from '../../models/types.js';
import type { ComponentHealth, Service } from '../runtime/service.js';
import type { AgentStore, ForecastRecord } from '../store/types.js';
import type { EventBus } from '../runtime/event-bus.js';
import { buildWindow, windowSpanMs } from './forecast-window.js';
import type { Logger } from '../lib/log.js';
import type { MessageBuilder } from '../mqtt/messages.js';
import type { ModelSlot } from '../runtime/model-slot.js';
import { Supervisor } from '../runtime/supervisor.js';
import { abortableSleep } from '../lib/timing.js';
import { SerialQueue } from '../lib/serial-queue.js';
import type { TemperatureAlerts } from './temperature-alerts.js';
import { PERSISTENCE } from './fallback.js';
import type { SelfScoring, TrackedForecast } from './self-scoring.js';

/** The store key of the temperature alerts' state (agent.ts reads it back at start). */
export const TEMPERATURE_ALERTS_STATE = 'temperature_alerts';

export interface TelemetryConfig {
  /** Wall-clock ms between two reads; 0 when the sensor paces itself (replay). */
  periodMs: number;
  forecastEnabled: boolean;
  /** Data-time seconds between two forecasts. */
  every_s: number;
}

export interface TelemetryDeps {
  sensor: TemperatureSensor;
  forecaster: ModelSlot<Forecaster>;
  store: Pick<AgentStore, 'saveReading' | 'saveForecast' | 'saveState' | 'validReadingsSince'>;
  messages: MessageBuilder;
  alerts: TemperatureAlerts;
  scoring: SelfScoring;
  config: TelemetryConfig;
  bus: EventBus;
  logger: Logger;
}

export type ForecastOutcome = { ok: true; record: ForecastRecord } | { ok: false; reason: string };

export class TelemetryPipeline implements Service {
  readonly name = 'telemetry';
  private readonly supervisor: Supervisor;
  /** Data time of the last forecast made by this process (null: none yet, forecast at the next reading). */
  private lastForecastTs: number | null = null;
  private lastValidTs: number | null = null;
  private lastReading: Reading | null = null;
  private lastForecast: ForecastRecord | null = null;
  private skipReason: string | null = null;
  /** Set while the readings are further outside the model's training range than its margin. */
  private rangeNote: string | null = null;
  /** Data time when the current run of skipped forecasts was last logged (one line per `every_s`). */
  private skipLoggedAt: number | null = null;
  private counts = { readings: 0, invalid: 0, forecasts: 0, skipped: 0 };
  /** Forecasts (scheduled or commanded) run one after another, so alerts see them in order. */
  private readonly forecasting = new SerialQueue();
  /** The reading period and forecast cadence: the configuration's, until setCadence() changes them. */
  private cadence: Pick<TelemetryConfig, 'periodMs' | 'every_s'>;

  constructor(private readonly deps: TelemetryDeps) {
    this.cadence = { periodMs: deps.config.periodMs, every_s: deps.config.every_s };
    this.supervisor = new Supervisor('telemetry', (signal) => this.loop(signal), deps);
  }

  start(): Promise<void> {
    this.storeHistory();
    this.supervisor.start();
    return Promise.resolve();
  }

  /** Ends the loop (a read in flight is abandoned: a replay may be waiting for its next row) and the forecast in flight. */
  async stop(): Promise<void> {
    await this.supervisor.stop();
    await this.forecasting.drain();
  }

  health(): ComponentHealth {
    const r = this.lastReading;
    const extra = {
      sensor: this.deps.sensor.name,
      ...this.counts,
      restarts: this.supervisor.health().restarts,
      last_reading: r ? { ts: new Date(r.ts).toISOString(), valid: r.valid, celsius: r.valid ? r.celsius : null } : null,
      last_forecast: this.lastForecast
        ? { ts: new Date(this.lastForecast.ts).toISOString(), predicted_celsius: this.lastForecast.predicted_celsius }
        : null,
      forecast_skipped: this.skipReason,
      ...(this.rangeNote ? { outside_model_range: this.rangeNote } : {}),
      ...this.deps.scoring.health(this.lastValidTs),
    };
    const supervised = this.supervisor.health();
    if (supervised.state === 'down') return { ...extra, state: 'down', detail: supervised.detail };
    if (r && !r.valid) return { ...extra, state: 'degraded', detail: `last reading invalid: ${r.error}` };
    if (this.skipReason) return { ...extra, state: 'degraded', detail: `forecast skipped: ${this.skipReason}` };
    return { ...extra, state: 'ok' };
  }

  /** `cmd/forecast-now`: a forecast from the window ending at the latest valid reading, whatever the cadence. */
  forecastNow(): Promise<ForecastOutcome> {
    if (this.lastValidTs === null) return Promise.resolve({ ok: false, reason: 'no valid reading since the agent started' });
    return this.forecast(this.lastValidTs);
  }

  /** A new reading period or forecast cadence (`cmd/config/set`), used from the loop's next wait and the next reading. */
  setCadence(cadence: Partial<Pick<TelemetryConfig, 'periodMs' | 'every_s'>>): void {
    this.cadence = { ...this.cadence, ...cadence };
  }

  private async loop(signal: AbortSignal): Promise<void> {
    let nextAt = performance.now();
    while (!signal.aborted) {
      const reading = await untilAborted(this.deps.sensor.read(), signal);
      if (reading === null) return;
      this.record(reading);
      if (reading.valid && this.forecastDue(reading.ts)) await this.forecast(reading.ts);
      // Deadline scheduling keeps the period exact; after a stall it starts afresh instead of bursting.
      nextAt += this.cadence.periodMs;
      const now = performance.now();
      if (nextAt > now) await abortableSleep(nextAt - now, signal);
      else {
        nextAt = now;
        // A sensor that answers at once (a replay catching up) must not starve the relay and the camera.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }

  /**
   * A sensor's readings from before the start (the simulated sensor's demo hour), stored and published
   * like any reading where the store has none newer, so the first live reading has a full window.
   */
  private storeHistory(): void {
    const history = this.deps.sensor.history?.() ?? [];
    if (history.length === 0) return;
    const stored = this.deps.store.validReadingsSince(history[0]!.ts);
    const newest = stored.length > 0 ? stored[stored.length - 1]!.ts : -Infinity;
    const fresh = history.filter((r) => r.ts > newest);
    for (const reading of fresh) this.record(reading);
    if (fresh.length > 0) {
      const sensor = fresh[0]!.sensor;
      this.deps.logger.info({ readings: fresh.length, sensor }, `stored ${fresh.length} readings from before the start (sensor ${sensor}), so the first forecast comes at once`);
    }
  }

  private record(reading: Reading): void {
    const { store, messages, bus } = this.deps;
    this.lastReading = reading;
    this.counts.readings++;
    if (reading.valid) this.lastValidTs = reading.ts;
    else this.counts.invalid++;
    store.saveReading(reading, [messages.telemetry(reading)]);
    // In the same job as the reading: the forecasts it settles are scored in its commit.
    if (reading.valid) this.deps.scoring.settle(reading.ts, (this.deps.forecaster.current()?.contract.step_s ?? 60) * 500);
    bus.emit('reading', {
      valid: reading.valid,
      celsius: reading.valid ? reading.celsius : null,
      ...(reading.valid ? {} : { error: reading.error }),
      sensor: reading.sensor,
      ts: reading.ts,
    });
  }

  private forecastDue(ts: number): boolean {
    if (!this.deps.config.forecastEnabled) return false;
    const { every_s } = this.cadence;
    const last = this.lastForecastTs;
    // Data time going backwards (a replay that started over, a clock step) starts the cadence afresh.
    return last === null || ts < last || ts - last >= every_s * 1000;
  }

  private forecast(endTs: number): Promise<ForecastOutcome> {
    return this.forecasting.run(() => this.forecastWindow(endTs));
  }

  private async forecastWindow(endTs: number): Promise<ForecastOutcome> {
    const { forecaster, store, logger } = this.deps;
    const current = forecaster.current();
    if (!current) return this.skipped(endTs, 'no forecast model is loaded');
    const spec = { window: current.contract.window, step_s: current.contract.step_s };
    const window = buildWindow(store.validReadingsSince(endTs - windowSpanMs(spec)), endTs, spec);
    if (!window.ok) return this.skipped(endTs, window.reason);
    let predicted: number;
    let info: { name: string; version: string; horizon_s: number; levelRange: LevelRange | null };
    try {
      ({ predicted, info } = await forecaster.use(async (m) => ({
        predicted: await m.forecast(window.values),
        info: { name: m.info.name, version: m.info.version, horizon_s: m.contract.horizon_s, levelRange: m.levelRange ?? null },
      })));
    } catch (err) {
      logger.error({ err }, 'forecast failed');
      return this.skipped(endTs, `the model failed: ${(err as Error).message}`);
    }
    const model = { name: info.name, version: info.version };
    const last = window.values[window.values.length - 1] as number;
    this.noteRange(model, info.levelRange, last);
    const servedBy = this.deps.scoring.choose(model, endTs);
    const record: ForecastRecord = {
      id: this.deps.messages.ids.next(),
      ts: endTs,
      predicted_celsius: servedBy.served === 'model' ? predicted : Math.round(last * 100) / 100,
      horizon_s: info.horizon_s,
      from_ts: window.from,
      to_ts: window.to,
      n: spec.window,
      model: servedBy.served === 'model' ? model : PERSISTENCE,
      ...(servedBy.served === 'persistence' ? { fallback: { reason: servedBy.reason, instead_of: model } } : {}),
    };
    this.save(record, {
      forecastId: record.id,
      targetTs: record.to_ts + record.horizon_s * 1000,
      model,
      modelCelsius: predicted,
      persistenceCelsius: last,
      served: servedBy.served,
    });
    if (window.interpolated > 0) logger.debug({ interpolated: window.interpolated }, 'forecast window had missing steps filled in');
    return { ok: true, record };
  }

  /** Says (in health, and once in the log) when the readings are where the model never was in training. */
  private noteRange(model: { name: string; version: string }, range: LevelRange | null, last: number): void {
    const outside = range !== null && (last < range.min - range.margin || last > range.max + range.margin);
    const note = outside
      ? `the readings (${last.toFixed(2)} °C) are more than ${range.margin} °C outside the range ${model.name} ${model.version} was trained on ` +
        `(${range.min.toFixed(2)} to ${range.max.toFixed(2)} °C): it forecasts from the hour's shape alone`
      : null;
    if (note && !this.rangeNote) this.deps.logger.warn(note);
    this.rangeNote = note;
  }

  /**
   * The forecast and the threshold alerts it raises, in one transaction, and the alerts' new state and
   * the forecast's score row with them (written in the same job, so in the same commit).
   */
  private save(record: ForecastRecord, scored: TrackedForecast): void {
    const { store, messages, alerts, bus, logger } = this.deps;
    const raised = alerts.evaluate(record.predicted_celsius);
    const alertMessages = raised.map((a) => {
      logger.warn({ kind: a.kind, threshold_c: a.threshold_c, predicted_celsius: record.predicted_celsius }, `temperature forecast alert: ${a.kind}`);
      return messages.temperatureAlert({
        kind: a.kind,
        threshold_c: a.threshold_c,
        predicted_celsius: record.predicted_celsius,
        horizon_s: record.horizon_s,
        forecast_id: record.id,
        ts: record.ts,
      });
    });
    if (store.saveForecast(record, [messages.forecast(record), ...alertMessages])) this.deps.scoring.track(scored);
    if (raised.length > 0) store.saveState(TEMPERATURE_ALERTS_STATE, alerts.saved());
    this.lastForecastTs = record.ts;
    this.lastForecast = record;
    this.counts.forecasts++;
    if (this.skipReason) logger.info('forecasts resumed');
    this.skipReason = null;
    this.skipLoggedAt = null;
    bus.emit('forecast', { predicted_celsius: record.predicted_celsius, ts: record.ts, horizon_s: record.horizon_s });
  }

  private skipped(endTs: number, reason: string): ForecastOutcome {
    this.counts.skipped++;
    this.skipReason = reason;
    const every = this.cadence.every_s * 1000;
    if (this.skipLoggedAt === null || endTs < this.skipLoggedAt || endTs - this.skipLoggedAt >= every) {
      this.skipLoggedAt = endTs;
      this.deps.logger.warn({ reason }, `forecast skipped: ${reason}`);
      this.deps.bus.emit('forecast.skipped', { reason });
    }
    return { ok: false, reason };
  }
}

/** The promise's value, or null as soon as `signal` aborts (the promise is left to settle on its own). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | null> {
  if (signal.aborted) return Promise.resolve(null);
  return new Promise<T | null>((resolve, reject) => {
    const onAbort = () => resolve(null);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(signal.aborted ? null : value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
