/**
 * The services of `edge-agent run`, in start order (the Agent stops them in reverse). One table: each
 * entry says what it starts under the configuration, whether it waits for the models, and whether it
 * starts only after the agent told systemd it is ready (`afterReady`: code such as fastify and
 * prom-client that the pipelines need not wait for). Optional modules are imported by their entry, so
 * a configuration that leaves a feature off never loads its code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Forecaster, IntruderDetector } from '../../models/types.js';
import type { ConfigSource } from '../config/load.js';
import type { AgentConfig } from '../config/types.js';
import type { Logger } from '../lib/log.js';
import { packageRoot } from '../lib/paths.js';
import { maxPayloadBytes } from '../mqtt/client-options.js';
import type { MessageBuilder } from '../mqtt/messages.js';
import type { MqttRelay } from '../mqtt/relay.js';
import type { RemoteCommands } from '../mqtt/remote-commands.js';
import { createOtaService } from '../ota/setup.js';
import type { EventBus } from '../runtime/event-bus.js';
import type { ModelSlot } from '../runtime/model-slot.js';
import type { Service } from '../runtime/service.js';
import { StoreMaintenance } from '../store/maintenance.js';
import type { SqliteStore } from '../store/store.js';
import { TelemetryPipeline } from '../telemetry/pipeline.js';
import { createTelemetryPipeline } from '../telemetry/setup.js';
import type { AlarmPolicy } from '../vision/alarm.js';
import { IntrusionTracker } from '../vision/intrusion-tracker.js';
import { ObjectTracker, objectTrackerConfig } from '../vision/object-tracker.js';
import { MotionGate } from '../vision/motion-gate.js';
import { VisionPipeline, visionServiceName } from '../vision/pipeline.js';
import { cameraProfiles, type CameraProfile } from '../vision/camera-profiles.js';
import { DetectorTurns } from '../vision/detector-turns.js';
import type { Camera } from '../../drivers/camera/index.js';
import { SnapshotFolder } from '../vision/snapshot.js';
import type { AgentHardware, HealthReport } from './agent.js';
import { alarmCommand, forecastNowCommand } from './command-handlers.js';
import { DiagnosticsPublisher, readCpuTemperature } from './diagnostics.js';
import { ModelHealth } from './model-health.js';
import { ConfigShadow } from './config-shadow.js';
import { RemoteConfig } from './remote-config.js';
import { SdNotify } from './sd-notify.js';
import { progressFromHealth, Watchdog, type WatchedPipeline } from './watchdog.js';

/** What the services are built from: the parts the Agent makes once and every service shares. */
export interface AgentParts {
  config: AgentConfig;
  configSource: ConfigSource;
  logger: Logger;
  bus: EventBus;
  store: SqliteStore;
  messages: MessageBuilder;
  relay: MqttRelay;
  /** The remote-command router (`<base>/cmd/<name>`); the Agent releases a service's commands when it stops. */
  commands: RemoteCommands;
  alarm: AlarmPolicy;
  hardware: AgentHardware;
  intruder: ModelSlot<IntruderDetector>;
  forecaster: ModelSlot<Forecaster>;
  health: () => HealthReport;
  /** A service of the table that has started, by name (null: not started, or left off). */
  started: (name: string) => Service | null;
}

export interface ServiceEntry {
  /** Names the entry in logs when it cannot start. */
  name: string;
  /** Started once the agent is ready, and never a reason for the agent to fail. */
  afterReady?: boolean;
  /** Waits for the models to finish loading before it starts. */
  needsModels?: boolean;
  /** The services this entry starts under the configuration, in order; none when it leaves them off. */
  build(parts: AgentParts): Promise<Service[]>;
}

/** Snapshot size cap when the broker has no payload limit (a 1280x720 JPEG is ~200 KB). */
const DEFAULT_SNAPSHOT_MAX_BYTES = 1024 * 1024;
/** Room for the MQTT header and topic under a broker's payload limit. */
const HEADER_ROOM_BYTES = 1024;

export const SERVICES: readonly ServiceEntry[] = [
  { name: 'store', build: async ({ store, logger }) => [new StoreMaintenance({ store, logger })] },
  {
    name: 'embedded broker',
    build: async ({ config, logger }) => {
      if (!config.mqtt.embedded_broker.enabled) return [];
      // Production configs use a real broker and need not carry aedes in memory.
      const { EmbeddedBroker } = await import('../mqtt/embedded-broker.js');
      return [new EmbeddedBroker({ config: config.mqtt.embedded_broker, logger })];
    },
  },
  { name: 'mqtt', build: async ({ relay }) => [relay] },
  {
    name: 'alarm',
    needsModels: true,
    build: async ({ alarm, commands, config }) => {
      commands.register(alarm, 'alarm', alarmCommand(alarm, config.alarm));
      return [alarm];
    },
  },
  {
    name: 'models',
    needsModels: true,
    build: async ({ config, hardware, intruder, forecaster }) => [
      new ModelHealth({ config, intruder, forecaster, vision: hardware.createCamera !== null, telemetry: hardware.sensor !== null }),
    ],
  },
  { name: 'vision', build: async (parts) => visionPipelines(parts) },
  {
    name: 'telemetry',
    build: async (parts) => {
      if (!parts.hardware.sensor) return [];
      const pipeline = telemetry(parts, parts.hardware.sensor);
      parts.commands.register(pipeline, 'forecast-now', forecastNowCommand(pipeline));
      return [pipeline];
    },
  },
  { name: 'watchdog', afterReady: true, build: async (parts) => [watchdog(parts)] },
  { name: 'http', afterReady: true, build: async (parts) => (parts.config.http.enabled ? httpServices(parts) : []) },
  {
    name: 'ota',
    afterReady: true,
    build: async (parts) => {
      const ota = createOtaService(parts);
      // After OTA: calibration promotes through it, and stops (cancelling a run) before it.
      const { createCalibrationService } = await import('../telemetry/calibration/setup.js');
      const calibration = createCalibrationService(parts, ota);
      return calibration ? [ota, calibration] : [ota];
    },
  },
  { name: 'diagnostics', afterReady: true, build: async (parts) => [diagnostics(parts)] },
  { name: 'homeassistant', afterReady: true, build: async (parts) => [await homeAssistant(parts)] },
  // Last: its <base>/info names the models the services above loaded.
  {
    name: 'remote-config',
    afterReady: true,
    build: async (parts) => {
      const remote = remoteConfig(parts);
      const thingName = parts.config.mqtt.aws_iot.thing_name;
      if (thingName === null) return [remote];
      // With the AWS IoT profile the same changes also come through the named shadow `config`.
      const shadow = new ConfigShadow({ thingName, mqtt: parts.relay, bus: parts.bus, change: (partial) => remote.change(partial), logger: parts.logger });
      return [remote, shadow];
    },
  },
];

/** The cameras the agent watches. */
function cameras(parts: AgentParts): CameraProfile[] {
  return parts.hardware.createCamera && parts.config.intruder.enabled ? cameraProfiles(parts.config) : [];
}

/** One pipeline per camera, taking turns at the one detector. */
function visionPipelines(parts: AgentParts): VisionPipeline[] {
  const createCamera = parts.hardware.createCamera;
  const turns = new DetectorTurns();
  return createCamera ? cameras(parts).map((camera) => vision(parts, camera, () => createCamera(camera.driver), turns)) : [];
}

function vision(parts: AgentParts, camera: CameraProfile, createCamera: () => Camera, turns: DetectorTurns): VisionPipeline {
  const { config, logger, bus, store, messages, alarm } = parts;
  const limit = maxPayloadBytes(config.mqtt);
  const snapshot = config.intruder.snapshot;
  // The one camera keeps the folder it always had; each camera of `cameras` keeps max_files of its own.
  const folder = camera.topicName === null ? join(config.data_dir, 'snapshots') : join(config.data_dir, 'snapshots', camera.name);
  return new VisionPipeline({
    camera,
    createCamera,
    gate: new MotionGate(camera.motion),
    tracker: new IntrusionTracker(camera.intruder, new ObjectTracker(objectTrackerConfig(camera.intruder))),
    detector: parts.intruder,
    turns,
    store,
    messages,
    alarm,
    alarmZones: camera.alarmZones,
    snapshots: snapshot.enabled ? { folder: new SnapshotFolder(folder, snapshot.max_files), maxBytes: (limit ?? DEFAULT_SNAPSHOT_MAX_BYTES) - HEADER_ROOM_BYTES } : null,
    bus,
    logger: logger.child({ module: 'vision', camera: camera.name }),
    plan: { regions: config.intruder.regions, stationary: config.intruder.stationary },
  });
}

function telemetry(parts: AgentParts, sensor: NonNullable<AgentHardware['sensor']>): TelemetryPipeline {
  const { config, logger, bus, store, messages } = parts;
  return createTelemetryPipeline({ config, sensor, forecaster: parts.forecaster, store, messages, bus, logger });
}

/** systemd's watchdog, fed while vision and telemetry (those that run) advance. */
function watchdog(parts: AgentParts): Watchdog {
  const { config, logger } = parts;
  // The cameras are fixed for the process (a change under `cameras` waits for a restart).
  const visionNames = cameras(parts).map((camera) => visionServiceName(camera.topicName));
  // Read at each check: `cmd/config/set` changes stall_s and interval_s live.
  const bounds = (): Record<string, number> => {
    const stallMs = config.watchdog.stall_s * 1000;
    const vision = Object.fromEntries(visionNames.map((name) => [name, stallMs]));
    return { ...vision, telemetry: Math.max(stallMs, 3 * config.sensor.interval_s * 1000) };
  };
  const pipelines = (): WatchedPipeline[] =>
    Object.entries(bounds()).flatMap(([name, bound]) => {
      const service = parts.started(name);
      return service ? [{ name, stallMs: bound, progress: () => progressFromHealth(service.health()) }] : [];
    });
  return new Watchdog({ notify: new SdNotify({ logger }), pipelines, maxLagMs: config.watchdog.max_lag_s * 1000, logger: logger.child({ module: 'watchdog' }) });
}

/**
 * The HTTP API and the metrics it serves. Not even imported when `http.enabled` is false: fastify and
 * prom-client cost about 5 MB of memory that nothing would use.
 */
async function httpServices(parts: AgentParts): Promise<Service[]> {
  const { config, logger, bus, store, relay } = parts;
  const [{ HttpServer }, { AgentMetrics }, { sceneLayout }] = await Promise.all([import('../http/server.js'), import('../http/metrics.js'), import('../http/status-data.js')]);
  // mqttConnected: the relay connected before these services start, so the gauge cannot wait for an event.
  const metrics = new AgentMetrics({
    bus,
    outboxDepth: () => store.outboxDepth(),
    mqttConnected: () => relay.connected,
    models: { intruder: parts.intruder, forecast: parts.forecaster },
  });
  const scenes = cameras(parts).flatMap((camera) => {
    const pipeline = parts.started(visionServiceName(camera.topicName));
    return pipeline instanceof VisionPipeline ? [{ camera: camera.name, latestFrame: () => pipeline.latestFrame(), layout: () => sceneLayout(camera) }] : [];
  });
  const server = new HttpServer({
    config,
    detector: parts.intruder,
    forecaster: parts.forecaster,
    health: parts.health,
    status: store,
    scenes,
    metrics,
    bus,
    logger: logger.child({ module: 'http' }),
  });
  return [metrics, server];
}

function diagnostics(parts: AgentParts): DiagnosticsPublisher {
  const { config, logger, bus, store, messages } = parts;
  return new DiagnosticsPublisher({
    bus,
    store,
    messages,
    intervalMs: config.diagnostics.interval_s * 1000,
    cpuTemperatureFile: config.diagnostics.cpu_temperature_file,
    logger: logger.child({ module: 'diagnostics' }),
  });
}

async function homeAssistant(parts: AgentParts): Promise<Service> {
  const { config, logger, store, relay } = parts;
  const { HomeAssistantDiscovery } = await import('../mqtt/homeassistant.js');
  const pkg = packageInfo();
  return new HomeAssistantDiscovery({
    config,
    baseTopic: relay.baseTopic,
    publish: (messages) => store.enqueue(messages),
    subscribe: (filter, handler) => relay.subscribe(filter, handler),
    device: { model: 'edge-agent', sw_version: pkg.version, ...(pkg.homepage ? { url: pkg.homepage } : {}) },
    // The one camera of `camera:` keeps the entity ids it always had (name null); each of `cameras` gets its own.
    cameras: cameras(parts).map((camera) => ({ name: camera.topicName })),
    cpuTemperature: (await readCpuTemperature(config.diagnostics.cpu_temperature_file)) !== null,
    stateFile: join(config.data_dir, 'homeassistant.json'),
    logger: logger.child({ module: 'homeassistant' }),
  });
}

function remoteConfig(parts: AgentParts): RemoteConfig {
  const { config, configSource, logger, store, messages, commands } = parts;
  const model = (slot: ModelSlot<IntruderDetector | Forecaster>) => {
    const info = slot.current()?.info;
    return info ? { name: info.name, version: info.version } : null;
  };
  return new RemoteConfig({
    config,
    source: configSource,
    commands,
    publish: (outgoing) => store.enqueue(outgoing),
    messages,
    live: {
      logger,
      telemetry: () => {
        const service = parts.started('telemetry');
        return service instanceof TelemetryPipeline ? service : null;
      },
    },
    versions: () => ({ agent: packageInfo().version, node: process.versions.node, models: { intruder: model(parts.intruder), forecast: model(parts.forecaster) } }),
    logger: logger.child({ module: 'remote-config' }),
  });
}

function packageInfo(): { version: string; homepage?: string } {
  return JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string; homepage?: string };
}
