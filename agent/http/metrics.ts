/**
 * Prometheus metrics for `/metrics`, built from EventBus events (the pipelines know nothing of
 * Prometheus) plus a few gauges read at scrape time. Everything lives in this object's own registry, never
 * prom-client's global one, so two agents (or two tests) in one process do not collide.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ComponentHealth, Service } from '../runtime/service.js';
import type { EventBus } from '../runtime/event-bus.js';
import type { ModelInfo } from '../../models/types.js';

/** What observers need of a ModelSlot: the active model's name and version. */
export interface ModelHolder {
  current(): { readonly info: ModelInfo } | null;
}

export interface MetricsDeps {
  bus: EventBus;
  /** Outbox rows waiting, read at every scrape. */
  outboxDepth?: () => number;
  /**
   * The broker connection, read at every scrape (MqttRelay.connected): the relay may connect before
   * metrics start listening, and a missed `mqtt.connection` event would leave the gauge at 0.
   */
  mqttConnected?: () => boolean;
  /** The active models, read at every scrape (so a hot swap shows without an event). */
  models?: { intruder?: ModelHolder; forecast?: ModelHolder };
}

/** Free-text label values (sensor error reasons) are capped so a chatty driver cannot grow the series without bound. */
const MAX_REASONS = 20;
const MAX_REASON_LENGTH = 80;

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class AgentMetrics implements Service {
  readonly name = 'metrics';
  readonly registry = new Registry();
  private defaultsRegistered = false;
  private readonly reasons = new Set<string>();

  readonly inferenceSeconds = new Histogram({
    name: 'edge_agent_inference_seconds',
    help: 'Model inference latency (decode + run + postprocess) per model and version.',
    labelNames: ['model', 'version'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly framesCaptured = this.counter('edge_agent_frames_captured_total', 'Camera frames received.', ['camera']);
  readonly framesDropped = this.counter('edge_agent_frames_dropped_total', 'Camera frames dropped because the pipeline was busy (latest frame wins).', ['camera']);
  readonly framesSkipped = this.counter('edge_agent_frames_skipped_total', 'Frames not sent to the detector, by reason (no_motion: the motion gate).', ['reason']);
  readonly detections = this.counter('edge_agent_detections_total', 'Intruder-class objects detected, by class.', ['class']);
  readonly intrusionEvents = this.counter('edge_agent_intrusion_events_total', 'Intrusion events, by camera and phase (start, update, end).', ['camera', 'event']);
  readonly alarmOn = this.gauge('edge_agent_alarm_on', 'Alarm output state (1 on, 0 off).', []);
  readonly readings = this.counter('edge_agent_sensor_readings_total', 'Sensor readings, by sensor and validity.', ['sensor', 'valid']);
  readonly sensorErrors = this.counter('edge_agent_sensor_errors_total', 'Invalid sensor readings, by reason.', ['reason']);
  readonly temperature = this.gauge('edge_agent_temperature_celsius', 'Last valid temperature reading.', ['sensor']);
  readonly forecastCelsius = this.gauge('edge_agent_forecast_celsius', 'Last forecast temperature.', []);
  readonly forecasts = this.counter('edge_agent_forecasts_total', 'Forecasts made.', []);
  readonly forecastsSkipped = this.counter('edge_agent_forecasts_skipped_total', 'Forecasts not made, by reason.', ['reason']);
  readonly forecastMae = this.gauge(
    'edge_agent_forecast_mae_celsius',
    'Mean absolute error of the forecasts scored over the span (24h, 7d), of the active model and of persistence on the same forecasts.',
    ['span', 'predictor'],
  );
  readonly forecastSkill = this.gauge('edge_agent_forecast_skill', '1 - MAE / persistence MAE over the span: above 0 the model beats persistence.', ['span']);
  readonly forecastsScored = this.gauge('edge_agent_forecasts_scored', 'Forecasts of the active model scored over the span.', ['span']);
  readonly forecastFallback = this.gauge('edge_agent_forecast_fallback', '1 while forecasts are served by persistence because the model lost to it over 24 h.', []);
  readonly calibrations = this.counter('edge_agent_forecast_calibrations_total', 'Forecast calibrations run, by outcome (promoted, rejected, failed).', ['outcome']);
  readonly outboxDropped = this.counter('edge_agent_outbox_dropped_total', 'Outbox messages dropped because the outbox was full.', []);
  readonly publishSeconds = new Histogram({
    name: 'edge_agent_publish_latency_seconds',
    help: 'Time from a message entering the outbox to its PUBACK.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  readonly pipelineRestarts = this.counter('edge_agent_pipeline_restarts_total', 'Supervised pipeline restarts after an error.', ['pipeline']);

  readonly mqttConnected: Gauge;

  constructor(private readonly deps: MetricsDeps) {
    const { outboxDepth, models, mqttConnected } = deps;
    this.mqttConnected = new Gauge({
      name: 'edge_agent_mqtt_connected',
      help: 'MQTT connection state (1 connected, 0 not).',
      registers: [this.registry],
      collect() {
        if (mqttConnected) this.set(mqttConnected() ? 1 : 0);
      },
    });
    if (outboxDepth) {
      new Gauge({
        name: 'edge_agent_outbox_depth',
        help: 'Messages waiting in the SQLite outbox.',
        registers: [this.registry],
        collect() {
          this.set(outboxDepth());
        },
      });
    }
    new Gauge({
      name: 'edge_agent_model_info',
      help: 'The active model of each role (value 1), with its name and version as labels.',
      labelNames: ['role', 'name', 'version'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [role, holder] of Object.entries(models ?? {})) {
          const info = holder?.current()?.info;
          if (info) this.set({ role, name: info.name, version: info.version }, 1);
        }
      },
    });
  }

  /** Subscribes to the bus and registers the process metrics (CPU, memory, event loop lag, GC). */
  async start(): Promise<void> {
    if (!this.defaultsRegistered) {
      collectDefaultMetrics({ register: this.registry });
      this.defaultsRegistered = true;
    }
    const { bus } = this.deps;
    bus.on('inference', this, (e) => this.inferenceSeconds.observe({ model: e.model, version: e.version }, e.ms / 1000));
    bus.on('frame.captured', this, (e) => this.framesCaptured.inc({ camera: e.camera }));
    bus.on('frame.dropped', this, (e) => this.framesDropped.inc({ camera: e.camera }, e.count));
    bus.on('frame.skipped', this, (e) => this.framesSkipped.inc({ reason: e.reason }));
    bus.on('detections', this, (e) => {
      for (const object of e.objects) this.detections.inc({ class: object.class });
    });
    bus.on('intrusion', this, (e) => this.intrusionEvents.inc({ camera: e.camera, event: e.event }));
    bus.on('alarm', this, (e) => this.alarmOn.set(e.on ? 1 : 0));
    bus.on('reading', this, (e) => {
      this.readings.inc({ sensor: e.sensor, valid: String(e.valid) });
      if (e.valid && e.celsius !== null) this.temperature.set({ sensor: e.sensor }, e.celsius);
      else this.sensorErrors.inc({ reason: this.boundedReason(e.error ?? 'unknown') });
    });
    bus.on('forecast', this, (e) => {
      this.forecasts.inc();
      this.forecastCelsius.set(e.predicted_celsius);
    });
    bus.on('forecast.skipped', this, (e) => this.forecastsSkipped.inc({ reason: this.boundedReason(e.reason) }));
    bus.on('forecast.score', this, (e) => {
      for (const [span, score] of [['24h', e.last_24h], ['7d', e.last_7d]] as const) {
        this.setOrRemove(this.forecastMae, { span, predictor: 'model' }, score.mae_celsius);
        this.setOrRemove(this.forecastMae, { span, predictor: 'persistence' }, score.persistence_mae_celsius);
        this.setOrRemove(this.forecastSkill, { span }, score.skill);
        this.forecastsScored.set({ span }, score.scored);
      }
      this.forecastFallback.set(e.fallback.active ? 1 : 0);
    });
    bus.on('forecast.calibration', this, (e) => this.calibrations.inc({ outcome: e.outcome }));
    bus.on('outbox.dropped', this, (e) => this.outboxDropped.inc(e.count));
    bus.on('published', this, (e) => this.publishSeconds.observe(e.latency_ms / 1000));
    bus.on('mqtt.connection', this, (e) => this.mqttConnected.set(e.connected ? 1 : 0));
    bus.on('pipeline.restart', this, (e) => this.pipelineRestarts.inc({ pipeline: e.pipeline }));
  }

  async stop(): Promise<void> {
    this.deps.bus.removeListeners(this);
  }

  health(): ComponentHealth {
    return { state: 'ok' };
  }

  /** The Prometheus text exposition of every metric. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  /** A gauge with no value (nothing scored yet) has no sample, rather than a made-up 0. */
  private setOrRemove<L extends string>(gauge: Gauge<L>, labels: Partial<Record<L, string>>, value: number | null): void {
    if (value === null) gauge.remove(labels);
    else gauge.set(labels, value);
  }

  private boundedReason(reason: string): string {
    const value = reason.slice(0, MAX_REASON_LENGTH);
    if (this.reasons.has(value)) return value;
    if (this.reasons.size >= MAX_REASONS) return 'other';
    this.reasons.add(value);
    return value;
  }
}
