/**
 * Builds the HTTP app the way the agent does, with the real models: the YOLOv8n fixture behind the
 * intruder slot and the shipped forecaster behind the forecast slot.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { defaultConfig } from '../../agent/config/load.js';
import type { HttpConfig } from '../../agent/config/types.js';
import { EventBus } from '../../agent/runtime/event-bus.js';
import type { HealthReport, StatusDataSource } from '../../agent/http/types.js';
import { buildHttpApp } from '../../agent/http/server.js';
import { silentLogger } from '../../agent/lib/log.js';
import { AgentMetrics } from '../../agent/http/metrics.js';
import { ModelSlot } from '../../agent/runtime/model-slot.js';
import { loadForecaster } from '../../models/forecast.js';
import { loadIntruderDetector } from '../../models/intruder.js';
import type { Forecaster, IntruderDetector } from '../../models/types.js';
import { fixture } from '../helpers/fixtures.js';

export const KEY = 'test-key-0123456789';
export const OTHER_KEY = 'other-key-9876543210';

export interface Models {
  detector: ModelSlot<IntruderDetector>;
  forecaster: ModelSlot<Forecaster>;
  close(): Promise<void>;
}

export async function loadModels(): Promise<Models> {
  const [detector, forecaster] = await Promise.all([
    loadIntruderDetector(fixture('models/yolov8n-int8.onnx'), { threads: 1 }),
    loadForecaster(),
  ]);
  const slots = { detector: new ModelSlot<IntruderDetector>(detector), forecaster: new ModelSlot<Forecaster>(forecaster) };
  return { ...slots, close: async () => void (await Promise.all([slots.detector.close(), slots.forecaster.close()])) };
}

export const emptyStatus: StatusDataSource = {
  validReadingsSince: () => [],
  forecastsSince: () => [],
  recentDetections: () => [],
  scores: { scoredSince: () => [], summary: () => ({ scored: 0, model_mae: null, persistence_mae: null, served_mae: null }) },
};

export function httpConfig(overrides: Partial<HttpConfig> = {}): HttpConfig {
  return { ...defaultConfig().http, api_keys: [KEY, OTHER_KEY], ...overrides };
}

export interface TestApp {
  app: FastifyInstance;
  metrics: AgentMetrics;
  bus: EventBus;
}

export async function buildTestApp(
  models: Pick<Models, 'detector' | 'forecaster'>,
  options: { http?: Partial<HttpConfig>; health?: () => HealthReport; status?: StatusDataSource; now?: () => number } = {},
): Promise<TestApp> {
  const bus = new EventBus(silentLogger());
  const metrics = new AgentMetrics({ bus, models: { intruder: models.detector, forecast: models.forecaster } });
  await metrics.start();
  const app = buildHttpApp({
    config: { device_id: 'test-pi', http: httpConfig(options.http) },
    detector: models.detector,
    forecaster: models.forecaster,
    health: options.health ?? (() => ({ components: { camera: { state: 'ok' } } })),
    status: options.status ?? emptyStatus,
    metrics,
    bus,
    logger: silentLogger(),
    ...(options.now ? { now: options.now } : {}),
  });
  await app.ready();
  return { app, metrics, bus };
}

/** 60 readings of a slow warm-up, like an office in the morning. */
export function window60(start = 20): number[] {
  return Array.from({ length: 60 }, (_, i) => Math.round((start + i * 0.02) * 100) / 100);
}

/**
 * One app with the real models for a whole test file: loaded before its tests, closed after them.
 * Returns a getter (the app exists only once beforeAll has run).
 */
export function sharedTestApp(options: Parameters<typeof buildTestApp>[1] = {}): () => TestApp & { models: Models } {
  let shared: (TestApp & { models: Models }) | null = null;
  beforeAll(async () => {
    const models = await loadModels();
    shared = { ...(await buildTestApp(models, options)), models };
  });
  afterAll(async () => {
    await shared?.app.close();
    await shared?.models.close();
  });
  return () => {
    if (!shared) throw new Error('the shared test app is only available inside tests');
    return shared;
  };
}
