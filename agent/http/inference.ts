/**
 * The models behind the HTTP API: each behind its own bounded queue, always the slot's current model
 * (so an OTA swap takes effect at the next request). Shared by the /v1 and /compat routes.
 */
import { performance } from 'node:perf_hooks';
import type { EventBus } from '../runtime/event-bus.js';
import type { ModelSlot } from '../runtime/model-slot.js';
import type { ModelRef } from '../mqtt/contract/topics.js';
import type { DetectionResult, ForecastContract, Forecaster, IntruderDetector } from '../../models/types.js';
import { HttpError, ModelUnavailableError } from './errors.js';
import { InferenceQueue, QueueFullError } from './inference-queue.js';

export interface DetectionAnswer {
  result: DetectionResult;
  model: ModelRef;
}

export interface ForecastAnswer {
  predicted_celsius: number;
  contract: ForecastContract;
  model: ModelRef;
}

/** Windows that waited together run as one `forecastBatch` call, up to this many. */
const FORECAST_BATCH = 32;
/**
 * Detections in flight: the detector serialises its session runs itself and decodes the next image
 * while the current one is inferred, so two in flight reach its back-to-back rate; more only wait.
 */
const DETECT_CONCURRENCY = 2;

/** The window length the API expects when no forecaster is loaded (the shipped model's). */
const DEFAULT_WINDOW = 60;

export class InferenceService {
  readonly detectQueue: InferenceQueue<Uint8Array, DetectionAnswer>;
  readonly forecastQueue: InferenceQueue<readonly number[], ForecastAnswer>;

  constructor(
    private readonly detector: ModelSlot<IntruderDetector>,
    private readonly forecaster: ModelSlot<Forecaster>,
    maxQueue: number,
    private readonly bus?: EventBus,
  ) {
    this.detectQueue = new InferenceQueue({
      name: 'detection',
      maxDepth: maxQueue,
      concurrency: DETECT_CONCURRENCY,
      run: (images) => this.runDetect(images),
    });
    this.forecastQueue = new InferenceQueue({
      name: 'forecast',
      maxDepth: maxQueue,
      maxBatch: FORECAST_BATCH,
      run: (windows) => this.runForecast(windows),
    });
  }

  /**
   * An `onRequest` hook that refuses at once when the queue is full, before the body (up to 6 MB) is
   * parsed and buffered: Node discards the unread body and keeps the connection, so under a flood a
   * refused request costs little more than reading its bytes. (Closing the connection instead makes the
   * kernel reset it over the unread bytes, and clients then lose the 503.)
   */
  refuseWhenFull(queue: 'detect' | 'forecast'): () => Promise<void> {
    const target = queue === 'detect' ? this.detectQueue : this.forecastQueue;
    return async () => {
      try {
        target.assertRoom();
      } catch (err) {
        if (!(err instanceof QueueFullError)) throw err;
        throw new HttpError(503, err.message, { 'retry-after': String(err.retryAfterS) }, 'queue_full');
      }
    };
  }

  /** The number of readings the current forecaster takes. */
  forecastWindow(): number {
    return this.forecaster.current()?.contract.window ?? DEFAULT_WINDOW;
  }

  detect(image: Uint8Array, signal?: AbortSignal): Promise<DetectionAnswer> {
    if (!this.detector.current()) return Promise.reject(new ModelUnavailableError('intruder'));
    return this.detectQueue.push(image, signal);
  }

  forecast(values: readonly number[], signal?: AbortSignal): Promise<ForecastAnswer> {
    if (!this.forecaster.current()) return Promise.reject(new ModelUnavailableError('forecast'));
    return this.forecastQueue.push(values, signal);
  }

  /**
   * Queues every image of a batch or none: throws ModelUnavailableError, or QueueFullError when the
   * queue has no room for all of them. One answer (or failure) per image, in order.
   */
  detectAll(images: readonly Uint8Array[], signal?: AbortSignal): Promise<DetectionAnswer>[] {
    if (!this.detector.current()) throw new ModelUnavailableError('intruder');
    return this.detectQueue.pushAll(images, signal);
  }

  /** Queues every window of a batch or none, like detectAll; windows queued together run as one batch. */
  forecastAll(windows: readonly (readonly number[])[], signal?: AbortSignal): Promise<ForecastAnswer>[] {
    if (!this.forecaster.current()) throw new ModelUnavailableError('forecast');
    return this.forecastQueue.pushAll(windows, signal);
  }

  private async runDetect(images: Uint8Array[]): Promise<DetectionAnswer[]> {
    if (!this.detector.current()) throw new ModelUnavailableError('intruder');
    return this.detector.use(async (model) => {
      const answers: DetectionAnswer[] = [];
      for (const image of images) {
        const result = await model.detect(image);
        this.bus?.emit('inference', { model: model.info.name, version: model.info.version, ms: result.timings_ms.total });
        answers.push({ result, model: { name: model.info.name, version: model.info.version } });
      }
      return answers;
    });
  }

  private async runForecast(windows: (readonly number[])[]): Promise<ForecastAnswer[]> {
    if (!this.forecaster.current()) throw new ModelUnavailableError('forecast');
    return this.forecaster.use(async (model) => {
      const started = performance.now();
      const predictions = await model.forecastBatch(windows);
      this.bus?.emit('inference', { model: model.info.name, version: model.info.version, ms: performance.now() - started });
      const ref = { name: model.info.name, version: model.info.version };
      return predictions.map((value) => ({ predicted_celsius: Math.round(value * 100) / 100, contract: model.contract, model: ref }));
    });
  }
}
