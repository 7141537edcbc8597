/**
 * The OTA feature of the daemon: MQTT commands, AWS IoT Jobs (with the AWS profile), and the retained
 * `<base>/models/<role>` info of each active model. The daemon builds it with `createOtaService(context)`
 * (agent/ota/setup.ts) from what the agent already has (config, relay, store, bus, model slots).
 */
import type { AgentConfig } from '../config/types.js';
import type { ComponentHealth, Service } from '../runtime/service.js';
import type { EventBus } from '../runtime/event-bus.js';
import type { Logger } from '../lib/log.js';
import { Topic, type ModelInfoPayload } from '../mqtt/contract/topics.js';
import { MODEL_ROLES, type ActiveModel, type ModelRegistry, type ModelRole } from './registry.js';
import type { ModelInfo } from '../../models/types.js';
import { ActiveModelWatch } from './active-watch.js';
import { AwsJobs } from './aws-jobs.js';
import { modelInfoPayload, unregisteredModelInfo } from './messages.js';
import { ModelCommands, type ModelCommandsDeps, type OtaMqtt, type OtaOutbox } from './mqtt-commands.js';
import { ModelUpdateState, type ModelUpdateStateDeps } from './update-state.js';
import type { ModelUpdater, SwappableSlot, UpdateRequest } from './updater.js';
import type { RoleModels } from './validate.js';

/** A pipeline's model slot as OTA needs it: swap to a new model, and say what it serves now. */
export interface OtaSlot<T extends { info: ModelInfo }> extends SwappableSlot<T> {
  current(): T | null;
}

export interface OtaServiceDeps {
  config: AgentConfig;
  registry: ModelRegistry;
  updater: ModelUpdater;
  mqtt: OtaMqtt;
  /** The remote-command router: OTA answers `model-update` and `model-rollback` through it. */
  commands: ModelCommandsDeps['commands'];
  outbox: OtaOutbox;
  /** Builds the retained `<base>/models/<role>/update` state messages. */
  messages: ModelUpdateStateDeps['messages'];
  bus: EventBus;
  logger: Logger;
  slots: { [R in ModelRole]?: OtaSlot<RoleModels[R]> };
  clock?: () => number;
  /** How often the registry's active pointers are checked for activations made with the CLI (default 2 s). */
  watchPollMs?: number;
}

export class OtaService implements Service {
  readonly name = 'ota';
  private commands: ModelCommands | null = null;
  private jobs: AwsJobs | null = null;
  private watch: ActiveModelWatch | null = null;
  private updateState: ModelUpdateState | null = null;
  private lastResult: { role: ModelRole; version: string; at: string } | null = null;

  constructor(private readonly deps: OtaServiceDeps) {}

  async start(): Promise<void> {
    const { registry, updater, mqtt, bus, logger, config } = this.deps;
    await registry.cleanup();
    await this.publishServingModels();
    const onActivated = (active: ActiveModel) => this.announce(active);
    const updateState = new ModelUpdateState({
      mqtt,
      outbox: this.deps.outbox,
      messages: this.deps.messages,
      bus,
      serving: (role) => (this.deps.slots[role] ? (this.deps.slots[role].current()?.info ?? null) : undefined),
      logger,
      ...(this.deps.clock ? { clock: this.deps.clock } : {}),
    });
    updateState.start();
    this.updateState = updateState;
    this.commands = new ModelCommands({ updater, registry, commands: this.deps.commands, onActivated, announced: (role) => updateState.announced(role) });
    this.commands.start();
    const thingName = config.mqtt.aws_iot.thing_name;
    if (thingName !== null) {
      this.jobs = new AwsJobs({ thingName, mqtt, bus, updater, registry, logger, onActivated });
      this.jobs.start();
    }
    const configured = { intruder: config.intruder.model, forecast: config.forecast.model };
    this.watch = new ActiveModelWatch({
      roles: MODEL_ROLES.filter((role) => this.deps.slots[role] && configured[role] === null),
      registry,
      updater,
      servingSha256: (role) => this.deps.slots[role]?.current()?.info.sha256 ?? null,
      onActivated,
      logger,
      ...(this.deps.watchPollMs === undefined ? {} : { pollMs: this.deps.watchPollMs }),
    });
    await this.watch.start();
  }

  async stop(): Promise<void> {
    await this.watch?.stop();
    this.watch = null;
    this.jobs?.stop();
    this.commands?.stop();
    this.jobs = null;
    this.commands = null;
    await this.deps.updater.stop();
    // After the updater: an install cancelled by the stop still reports that it ended.
    this.updateState?.stop();
    this.updateState = null;
  }

  /**
   * Installs and activates a model made on this device (the forecast calibration) as an update received
   * over MQTT is, without asking for a signature it cannot have: checksum-verified, validated, swapped in,
   * announced on `<base>/models/<role>`, and undone by `model-rollback`.
   */
  async updateMadeOnDevice(request: UpdateRequest): Promise<ActiveModel> {
    const active = await this.deps.updater.updateMadeOnDevice(request);
    this.announce(active);
    return active;
  }

  /** The registry's active version of a role (null: the pipeline serves a configured or shipped model). */
  active(role: ModelRole): Promise<ActiveModel | null> {
    return this.deps.registry.active(role);
  }

  health(): ComponentHealth {
    return {
      state: 'ok',
      aws_jobs: this.jobs !== null,
      ...(this.lastResult ? { last_activation: this.lastResult } : {}),
    };
  }

  private announce(active: ActiveModel): void {
    this.lastResult = { role: active.role, version: active.manifest.version, at: active.activated_at };
    this.publishInfo(modelInfoPayload(active));
  }

  /**
   * Retained info of what each pipeline serves: the registry's active version when that is what the slot
   * holds, else the model's own info (a configured path, the shipped forecaster).
   */
  private async publishServingModels(): Promise<void> {
    const since = (this.deps.clock ?? Date.now)();
    for (const role of MODEL_ROLES) {
      const serving = this.deps.slots[role]?.current()?.info;
      if (!serving) continue;
      const active = await this.deps.registry.active(role);
      this.publishInfo(active && active.manifest.sha256 === serving.sha256 ? modelInfoPayload(active) : unregisteredModelInfo(role, serving, since));
    }
  }

  private publishInfo(info: ModelInfoPayload): void {
    const topic = `${this.deps.mqtt.baseTopic}/${Topic.model(info.role)}`;
    if (!this.deps.outbox.enqueue([{ topic, payload: JSON.stringify(info), retain: true }])) {
      this.deps.logger.error({ role: info.role }, 'could not queue the model info');
    }
  }
}
