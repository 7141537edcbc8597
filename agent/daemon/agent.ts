/**
 * The composition root: builds the services from injected dependencies and owns their lifecycle.
 *
 * start(): hardware, then the store, then MQTT (embedded broker, relay), then the pipelines: what the
 * agent must do before it tells systemd it is ready. Models load while the store and MQTT come up.
 * startExtraServices(), called once the agent is ready: the services built over it (HTTP, OTA...), whose
 * code (fastify, prom-client) need not be loaded before the pipelines run.
 * stop(), in reverse: the extra services, the camera (the frame in flight finishes, an open intrusion
 * ends), the sensor loop, the alarm (off), the relay (flushes the outbox, publishes `offline`), the
 * broker, the database, then the hardware and the models.
 *
 * Drivers and model loaders are passed in, so tests compose the agent with fakes and the CLI
 * (agent/commands/run.ts) with the real ones.
 */
import { join } from 'node:path';
import type { Camera } from '../../drivers/camera/index.js';
import type { AlarmOutput } from '../../drivers/gpio/index.js';
import type { TemperatureSensor } from '../../drivers/sensors/index.js';
import type { Forecaster, IntruderDetector } from '../../models/types.js';
import { AlarmPolicy, parseAlarmCommand } from '../vision/alarm.js';
import type { AgentConfig } from '../config/types.js';
import type { ComponentHealth, Service } from '../runtime/service.js';
import type { EventBus } from '../runtime/event-bus.js';
import { IntrusionTracker } from '../vision/intrusion-tracker.js';
import type { Logger } from '../lib/log.js';
import { MessageBuilder } from '../mqtt/messages.js';
import { ModelSlot } from '../runtime/model-slot.js';
import { MotionGate } from '../vision/motion-gate.js';
import { maxPayloadBytes, mqttBaseTopic } from '../mqtt/client-options.js';
import { MqttRelay } from '../mqtt/relay.js';
import { SnapshotFolder } from '../vision/snapshot.js';
import { StoreMaintenance } from '../store/maintenance.js';
import type { SqliteStore } from '../store/store.js';
import type { TelemetryPipeline } from '../telemetry/pipeline.js';
import { createTelemetryPipeline } from '../telemetry/setup.js';
import { Topic, type CommandName } from '../mqtt/contract/topics.js';
import { VisionPipeline } from '../vision/pipeline.js';

export interface AgentHardware {
  alarmOutput: AlarmOutput;
  /** null: telemetry off. */
  sensor: TemperatureSensor | null;
  /** Makes a camera (they are single-use); null: vision off. */
  createCamera: (() => Camera) | null;
}

/** `/health`'s body: each started service's own report, keyed by its name. */
export interface HealthReport {
  components: Record<string, ComponentHealth>;
}

/** What services built over the agent's own (HTTP API, OTA, Home Assistant) receive. */
export interface AgentContext {
  config: AgentConfig;
  logger: Logger;
  bus: EventBus;
  store: SqliteStore;
  relay: MqttRelay;
  messages: MessageBuilder;
  intruder: ModelSlot<IntruderDetector>;
  forecaster: ModelSlot<Forecaster>;
  health: () => HealthReport;
}

export interface AgentDeps {
  config: AgentConfig;
  logger: Logger;
  bus: EventBus;
  openHardware: () => Promise<AgentHardware>;
  openStore: () => SqliteStore;
  /** null: no model (the loader says why in the log). */
  loadIntruder: () => Promise<IntruderDetector | null>;
  loadForecaster: () => Promise<Forecaster | null>;
  /**
   * Started by startExtraServices() after the pipelines, stopped before them. Asynchronous so that their
   * code can be imported only then.
   */
  extraServices?: (context: AgentContext) => Promise<Service[]>;
}

/** Snapshot size cap when the broker has no payload limit (a 1280x720 JPEG is ~200 KB). */
const DEFAULT_SNAPSHOT_MAX_BYTES = 1024 * 1024;
/** Room for the MQTT header and topic under a broker's payload limit. */
const HEADER_ROOM_BYTES = 1024;

export class Agent {
  readonly intruder = new ModelSlot<IntruderDetector>();
  readonly forecaster = new ModelSlot<Forecaster>();
  private hardware: AgentHardware | null = null;
  private store: SqliteStore | null = null;
  /** Started services, in start order. */
  private services: Service[] = [];
  private unsubscribers: (() => void)[] = [];
  private modelsLoading: Promise<unknown> = Promise.resolve();
  /** Set once start() has built the pipelines; what the extra services receive. */
  private context: AgentContext | null = null;

  constructor(private readonly deps: AgentDeps) {}

  async start(): Promise<void> {
    const { config, logger, bus } = this.deps;
    const hardware = await this.deps.openHardware();
    this.hardware = hardware;
    // The models load (hundreds of ms of native work) while the store and MQTT come up; they go into
    // their slots at once, so stop() closes them even if a later step of start() fails.
    const models = Promise.all([
      this.deps.loadIntruder().then((model) => this.intruder.swap(model)),
      this.deps.loadForecaster().then((model) => this.forecaster.swap(model)),
    ]);
    this.modelsLoading = models.catch(() => undefined);

    const store = this.deps.openStore();
    this.store = store;
    const messages = new MessageBuilder(mqttBaseTopic(config.mqtt, config.device_id), config.device_id);
    await this.startService(new StoreMaintenance({ store, logger }));
    if (config.mqtt.embedded_broker.enabled) {
      // Imported only when enabled: production configs use a real broker and need not carry aedes in memory.
      const { EmbeddedBroker } = await import('../mqtt/embedded-broker.js');
      await this.startService(new EmbeddedBroker({ config: config.mqtt.embedded_broker, logger }));
    }
    const relay = new MqttRelay({ store, config: config.mqtt, deviceId: config.device_id, logger, bus });
    await this.startService(relay);

    await models;

    const alarm = new AlarmPolicy(config.alarm, { output: hardware.alarmOutput, store, messages, bus, logger: logger.child({ module: 'alarm' }) });
    await this.startService(alarm);
    if (hardware.createCamera && config.intruder.enabled) await this.startService(this.vision(hardware.createCamera, store, messages, alarm));
    const telemetry = hardware.sensor ? this.telemetry(hardware.sensor, store, messages) : null;
    if (telemetry) await this.startService(telemetry);
    this.subscribeCommands(relay, messages, alarm, telemetry);
    this.context = { config, logger, bus, store, relay, messages, intruder: this.intruder, forecaster: this.forecaster, health: () => this.health() };
  }

  /**
   * Starts the optional services (HTTP API, OTA, Home Assistant) over a started agent. None of them can
   * fail the agent: a service that cannot be built or started (HTTP port taken) is logged and left out.
   */
  async startExtraServices(): Promise<void> {
    const { logger } = this.deps;
    const context = this.context;
    if (!context || !this.deps.extraServices) return;
    let services: Service[];
    try {
      services = await this.deps.extraServices(context);
    } catch (err) {
      logger.error({ err }, `the optional services (HTTP, OTA, Home Assistant) were not started: ${(err as Error).message}`);
      return;
    }
    for (const service of services) {
      await this.startService(service).catch((err: unknown) => logger.error({ err, service: service.name }, `${service.name} did not start`));
    }
  }

  /** Stops everything in reverse order; each step's failure is logged and the next still runs. */
  async stop(): Promise<void> {
    const { logger } = this.deps;
    this.context = null;
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    for (const service of this.services.splice(0).reverse()) {
      await service.stop().catch((err: unknown) => logger.error({ err, service: service.name }, `${service.name} did not stop cleanly`));
    }
    this.store?.close();
    this.store = null;
    const hardware = this.hardware;
    this.hardware = null;
    await this.modelsLoading;
    await Promise.all([
      hardware?.sensor?.close(),
      hardware?.alarmOutput.close(),
      this.intruder.close(),
      this.forecaster.close(),
    ]).catch((err: unknown) => logger.error({ err }, 'hardware or model did not close cleanly'));
  }

  health(): HealthReport {
    const components: Record<string, ComponentHealth> = {};
    for (const service of this.services) components[service.name] = service.health();
    return { components };
  }

  private async startService(service: Service): Promise<void> {
    await service.start();
    this.services.push(service);
  }

  private vision(createCamera: () => Camera, store: SqliteStore, messages: MessageBuilder, alarm: AlarmPolicy): VisionPipeline {
    const { config, logger, bus } = this.deps;
    const limit = maxPayloadBytes(config.mqtt);
    const snapshot = config.intruder.snapshot;
    return new VisionPipeline({
      createCamera,
      gate: new MotionGate(config.motion),
      tracker: new IntrusionTracker(config.intruder),
      detector: this.intruder,
      store,
      messages,
      alarm,
      snapshots: snapshot.enabled
        ? { folder: new SnapshotFolder(join(config.data_dir, 'snapshots'), snapshot.max_files), maxBytes: (limit ?? DEFAULT_SNAPSHOT_MAX_BYTES) - HEADER_ROOM_BYTES }
        : null,
      bus,
      logger: logger.child({ module: 'vision' }),
    });
  }

  private telemetry(sensor: TemperatureSensor, store: SqliteStore, messages: MessageBuilder): TelemetryPipeline {
    const { config, logger, bus } = this.deps;
    return createTelemetryPipeline({ config, sensor, forecaster: this.forecaster, store, messages, bus, logger });
  }

  private subscribeCommands(relay: MqttRelay, messages: MessageBuilder, alarm: AlarmPolicy, telemetry: TelemetryPipeline | null): void {
    const hold = this.deps.config.alarm.hold_s;
    this.command(relay, messages, 'alarm', async (payload) => {
      const result = await alarm.command(parseAlarmCommand(payload, hold));
      return { message: `alarm ${result.alarm}`, result };
    });
    this.command(relay, messages, 'forecast-now', async () => {
      if (!telemetry) throw new Error('telemetry is off: no temperature sensor is configured');
      const outcome = await telemetry.forecastNow();
      if (!outcome.ok) throw new Error(`no forecast: ${outcome.reason}`);
      const { id, predicted_celsius, horizon_s } = outcome.record;
      return { message: `forecast ${predicted_celsius} °C in ${horizon_s} s`, result: { forecast_id: id, predicted_celsius, horizon_s } };
    });
  }

  /** Runs a `<base>/cmd/<name>` handler and queues its reply on `.../response` (also for a refused command). */
  private command(
    relay: MqttRelay,
    messages: MessageBuilder,
    name: CommandName,
    run: (payload: string) => Promise<{ message: string; result?: Record<string, unknown> }>,
  ): void {
    const { logger } = this.deps;
    const unsubscribe = relay.subscribe(messages.topic(Topic.command(name)), async (_topic, raw) => {
      const payload = raw.toString('utf8');
      const request_id = requestIdOf(payload);
      let reply: { ok: boolean; message: string; result?: Record<string, unknown> };
      try {
        reply = { ok: true, ...(await run(payload)) };
      } catch (err) {
        reply = { ok: false, message: (err as Error).message };
      }
      logger.info({ command: name, request_id, ok: reply.ok, message: reply.message }, `command ${name}`);
      this.store?.enqueue([messages.commandResponse(name, { request_id, ...reply })]);
    });
    this.unsubscribers.push(unsubscribe);
  }
}

/** The `request_id` a JSON command carries, echoed in the reply (null when absent or not JSON). */
function requestIdOf(payload: string): string | null {
  try {
    const body: unknown = JSON.parse(payload);
    const id = (body as { request_id?: unknown } | null)?.request_id;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}
