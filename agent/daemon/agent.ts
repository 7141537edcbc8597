/**
 * The agent's lifecycle over ONE ordered table of services (agent/daemon/services.ts).
 *
 * start(): the hardware, then the store and the parts every service shares (message builder, MQTT relay,
 * remote-command router, alarm policy), then each service of the table in order, up to those marked
 * `afterReady`: what the agent must do before it tells systemd it is ready. Models load while the store and
 * MQTT come up; the first service that needs them waits for them.
 * startAfterReady(): the rest of the table (HTTP, OTA, Home Assistant), whose code need not be loaded
 * before the pipelines run. None of them can fail the agent: one that cannot start is logged and left out.
 * stop(), in reverse: every started service, then the router, the database, the hardware and the models.
 *
 * Drivers, model loaders and the table are passed in, so tests compose the agent with fakes and the
 * daemon (agent/daemon/run.ts) with the real ones.
 */
import { basename } from 'node:path';
import type { Camera, CameraOptions } from '../../drivers/camera/index.js';
import type { AlarmOutput } from '../../drivers/gpio/index.js';
import type { TemperatureSensor } from '../../drivers/sensors/index.js';
import type { Forecaster, IntruderDetector } from '../../models/types.js';
import type { ConfigSource } from '../config/load.js';
import type { AgentConfig } from '../config/types.js';
import type { Logger } from '../lib/log.js';
import { mqttBaseTopic } from '../mqtt/client-options.js';
import { MessageBuilder, MessageIds } from '../mqtt/messages.js';
import { MqttRelay } from '../mqtt/relay.js';
import { RemoteCommands } from '../mqtt/remote-commands.js';
import type { EventBus } from '../runtime/event-bus.js';
import { ModelSlot } from '../runtime/model-slot.js';
import type { ComponentHealth, Service } from '../runtime/service.js';
import type { SqliteStore } from '../store/store.js';
import { AlarmPolicy } from '../vision/alarm.js';
import { SERVICES, type AgentParts, type ServiceEntry } from './services.js';

export interface AgentHardware {
  alarmOutput: AlarmOutput;
  /** null: telemetry off. */
  sensor: TemperatureSensor | null;
  /** Makes a camera from its options (they are single-use); null: vision off. */
  createCamera: ((options: CameraOptions) => Camera) | null;
}

/** `/health`'s body: each started service's own report, keyed by its name. */
export interface HealthReport {
  components: Record<string, ComponentHealth>;
}

export interface AgentDeps {
  config: AgentConfig;
  /** Where `config` came from (`cmd/config/set` loads it again the same way); default: no file, this process's environment. */
  configSource?: ConfigSource;
  logger: Logger;
  bus: EventBus;
  openHardware: () => Promise<AgentHardware>;
  openStore: () => SqliteStore;
  /** null: no model (the loader says why in the log). */
  loadIntruder: () => Promise<IntruderDetector | null>;
  loadForecaster: () => Promise<Forecaster | null>;
  /** The services in start order; default: the daemon's table (SERVICES). */
  services?: readonly ServiceEntry[];
}

export class Agent {
  readonly intruder = new ModelSlot<IntruderDetector>();
  readonly forecaster = new ModelSlot<Forecaster>();
  private hardware: AgentHardware | null = null;
  private store: SqliteStore | null = null;
  private parts: AgentParts | null = null;
  /** Started services, in start order. */
  private services: Service[] = [];
  private modelsLoading: Promise<unknown> = Promise.resolve();
  /** The one source of message and record ids: they sort in creation order across the whole process. */
  private readonly ids = new MessageIds();

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
    const messages = new MessageBuilder(mqttBaseTopic(config.mqtt, config.device_id), config.device_id, this.ids);
    this.reportRecovery(store, messages);
    const relay = new MqttRelay({ store, config: config.mqtt, deviceId: config.device_id, logger, bus });
    const commands = new RemoteCommands({ transport: relay, outbox: store, messages, logger: logger.child({ module: 'remote-commands' }) });
    commands.start();
    const alarm = new AlarmPolicy(config.alarm, { output: hardware.alarmOutput, store, messages, bus, logger: logger.child({ module: 'alarm' }) });
    const configSource = this.deps.configSource ?? { file: undefined, env: process.env, overrides: {} };
    this.parts = { config, configSource, logger, bus, store, messages, relay, commands, alarm, hardware, intruder: this.intruder, forecaster: this.forecaster, health: () => this.health(), started: (name) => this.services.find((s) => s.name === name) ?? null };

    for (const entry of this.table().filter((e) => !e.afterReady)) {
      if (entry.needsModels) await models;
      for (const service of await entry.build(this.parts)) await this.startService(service);
    }
  }

  /** Starts the table's `afterReady` services; a service that cannot be built or started is logged and left out. */
  async startAfterReady(): Promise<void> {
    const { logger } = this.deps;
    for (const entry of this.table().filter((e) => e.afterReady)) {
      const parts = this.parts;
      if (!parts) return; // stopped meanwhile
      try {
        for (const service of await entry.build(parts)) await this.startService(service);
      } catch (err) {
        logger.error({ err, service: entry.name }, `${entry.name} did not start: ${(err as Error).message}`);
      }
    }
  }

  /** Stops everything in reverse order; each step's failure is logged and the next still runs. */
  async stop(): Promise<void> {
    const { logger } = this.deps;
    const parts = this.parts;
    this.parts = null;
    for (const service of this.services.splice(0).reverse()) {
      await service.stop().catch((err: unknown) => logger.error({ err, service: service.name }, `${service.name} did not stop cleanly`));
      parts?.commands.release(service);
    }
    parts?.commands.stop();
    this.store?.close();
    this.store = null;
    const hardware = this.hardware;
    this.hardware = null;
    await this.modelsLoading;
    await Promise.all([hardware?.sensor?.close(), hardware?.alarmOutput.close(), this.intruder.close(), this.forecaster.close()]).catch((err: unknown) =>
      logger.error({ err }, 'hardware or model did not close cleanly'),
    );
  }

  health(): HealthReport {
    const components: Record<string, ComponentHealth> = {};
    for (const service of this.services) components[service.name] = service.health();
    return { components };
  }

  /** A database replaced at start (agent/store/recovery.ts) is told to the owner over MQTT, besides the log and /health. */
  private reportRecovery(store: SqliteStore, messages: MessageBuilder): void {
    const r = store.recovery;
    if (!r) return;
    const alert = { reason: r.reason, moved_to: basename(r.moved_to), recovered_outbox_rows: r.recovered_outbox_rows, unreadable_ranges: r.unreadable_ranges };
    store.enqueue([messages.storeAlert(alert, r.at)]);
  }

  private table(): readonly ServiceEntry[] {
    return this.deps.services ?? SERVICES;
  }

  private async startService(service: Service): Promise<void> {
    await service.start();
    this.services.push(service);
  }
}
