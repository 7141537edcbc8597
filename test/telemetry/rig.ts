/**
 * What the telemetry tests share: a list of readings (their timestamps are the fake clock: the pipeline,
 * its scoring and the calibration schedule all run on data time), a pipeline
 * built as the daemon builds it, and small real ONNX forecasters made with the project's graph builder.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultConfig } from '../../agent/config/load.js';
import type { ForecastConfig } from '../../agent/config/types.js';
import { silentLogger, type Logger } from '../../agent/lib/log.js';
import { MessageBuilder } from '../../agent/mqtt/messages.js';
import { EventBus } from '../../agent/runtime/event-bus.js';
import { ModelSlot } from '../../agent/runtime/model-slot.js';
import { SqliteStore } from '../../agent/store/store.js';
import { createTelemetryPipeline } from '../../agent/telemetry/setup.js';
import type { Reading, TemperatureSensor } from '../../drivers/sensors/types.js';
import { encodeForecastGraph, linearHead } from '../../models/forecast-graph.js';
import type { Forecaster } from '../../models/types.js';
import { FakeTemperatureSensor } from '../fakes/temperature-sensor.js';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const T0 = Date.UTC(2015, 1, 2, 14, 0);

/** One valid reading a minute from `from`, with the given values. */
export function minuteReadings(values: readonly number[], from = T0): Reading[] {
  return values.map((celsius, i) => ({ valid: true, celsius, ts: from + i * MINUTE, sensor: 'list' }));
}

export function openStore(path = ':memory:'): SqliteStore {
  return SqliteStore.open(path, { logger: silentLogger(), config: { max_outbox_rows: 1_000_000, retention_days: 100_000 } });
}

export interface TelemetryRigOptions {
  /** The readings a FakeTemperatureSensor hands out (then it waits, as a sensor does), or another sensor. */
  readings: readonly Reading[] | TemperatureSensor;
  forecaster: Forecaster | ModelSlot<Forecaster>;
  store: SqliteStore;
  forecast?: Partial<ForecastConfig>;
  logger?: Logger;
  bus?: EventBus;
}

/** The pipeline as the daemon builds it, over a list of readings or a sensor (no waits: replay pacing). */
export function telemetryRig(options: TelemetryRigOptions) {
  const defaults = defaultConfig();
  const { store } = options;
  const bus = options.bus ?? new EventBus(silentLogger());
  const sensor = Array.isArray(options.readings) ? new FakeTemperatureSensor(options.readings as readonly Reading[], { name: 'list' }) : (options.readings as TemperatureSensor);
  const slot = options.forecaster instanceof ModelSlot ? options.forecaster : new ModelSlot<Forecaster>(options.forecaster);
  const pipeline = createTelemetryPipeline({
    config: { sensor: { ...defaults.sensor, driver: 'replay' }, forecast: { ...defaults.forecast, ...options.forecast } },
    sensor,
    forecaster: slot,
    store,
    messages: new MessageBuilder('edge/dev', 'dev'),
    bus,
    logger: options.logger ?? silentLogger(),
  });
  /** The JSON payloads queued on `edge/dev/<suffix>`, oldest first. */
  const outbox = <T = Record<string, unknown>>(suffix: string): T[] =>
    store
      .pendingOutbox(1_000_000)
      .filter((r) => r.topic === `edge/dev/${suffix}`)
      .map((r) => JSON.parse(String(r.payload)) as T);
  return { pipeline, sensor, slot, bus, outbox, retained: (suffix: string) => store.pendingOutbox(1_000_000).filter((r) => r.topic === `edge/dev/${suffix}`).every((r) => r.retain) };
}

/**
 * Writes a real ONNX forecaster that predicts `last + offsets . weights + bias` (weights default to 0:
 * "the last reading plus `bias`"), built like the calibrated room models, and returns its path.
 */
export async function writeLinearForecaster(dir: string, fileName: string, options: { bias: number; weights?: number[]; name?: string; version?: string }): Promise<string> {
  const bytes = encodeForecastGraph({
    name: 'test-linear',
    window: 60,
    producer: { name: 'edge-agent tests', version: '0' },
    docString: 'test forecaster',
    metadata: { name: options.name ?? 'test-linear', version: options.version ?? '1', window: '60', step_s: '60', horizon_s: '3600', unit: 'Celsius' },
    head: linearHead(options.weights ?? new Array<number>(60).fill(0), options.bias),
  });
  const path = join(dir, fileName);
  await writeFile(path, bytes);
  return path;
}
