/**
 * `edge-agent run`: the daemon. Loads the configuration (exit 78 listing every problem), wires the real
 * drivers, models and services into an Agent, tells systemd when it is ready, and on SIGTERM/SIGINT
 * stops gracefully within 10 s (exit 0).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { createCamera } from '../../drivers/camera/index.js';
import { createAlarmOutput } from '../../drivers/gpio/index.js';
import { createTemperatureSensor } from '../../drivers/sensors/index.js';
import { ModelRegistry, type ModelRole } from '../ota/registry.js';
import type { Forecaster, IntruderDetector } from '../../models/types.js';
import { Agent, type AgentContext, type AgentDeps, type AgentHardware } from '../daemon/agent.js';
import { parseCommandArgs } from './args.js';
import { loadConfig } from '../config/load.js';
import type { AgentConfig, LogLevel } from '../config/types.js';
import type { Service } from '../runtime/service.js';
import { EventBus } from '../runtime/event-bus.js';
import { CliError, ExitCode } from '../lib/exit-codes.js';
import { createLogger, type Logger } from '../lib/log.js';
import { createOtaService, modelLoaders } from '../ota/setup.js';
import type { ModelIdentity } from '../ota/validate.js';
import { maxPayloadBytes } from '../mqtt/client-options.js';
import { packageRoot, shippedModelPath } from '../lib/paths.js';
import { SdNotify } from '../daemon/sd-notify.js';
import { SqliteStore } from '../store/store.js';

const USAGE = `usage: edge-agent run [options]

Runs the agent. Without --config it runs the embedded demo: simulated temperature sensor, the shipped
forecaster, camera off, an MQTT broker on 127.0.0.1:1883, the database under ./data.

options:
  --config FILE       YAML or JSON configuration (see systemd/config.example.yaml)
  --camera-dir DIR    replay the images of DIR as the camera (camera.driver dir, looping)
  --data-dir DIR      database, snapshots and installed models (data_dir)
  --device-id ID      device_id
  --mqtt-url URL      broker URL (mqtt.url), e.g. mqtt://192.168.1.10:1883
  --log-level LEVEL   fatal, error, warn, info, debug, trace or silent
  --verbose           print a stack trace with an error`;

/** systemd's default TimeoutStopSec is 90 s; the agent promises 10. */
const STOP_DEADLINE_MS = 10_000;

export async function main(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    config: { type: 'string' },
    'camera-dir': { type: 'string' },
    'data-dir': { type: 'string' },
    'device-id': { type: 'string' },
    'mqtt-url': { type: 'string' },
    'log-level': { type: 'string' },
    verbose: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return ExitCode.OK;
  }
  const cameraDir = values['camera-dir'];
  const config = loadConfig({
    file: values.config,
    overrides: {
      data_dir: values['data-dir'],
      device_id: values['device-id'],
      log_level: values['log-level'] as LogLevel | undefined,
      mqtt: { url: values['mqtt-url'] },
      camera: cameraDir === undefined ? undefined : { driver: 'dir', dir: cameraDir, loop: true },
    },
  });
  const logger = createLogger(config.log_level);
  return runDaemon(config, logger);
}

async function runDaemon(config: AgentConfig, logger: Logger): Promise<number> {
  // libvips keeps recent decoded images for reuse; a camera never shows the same frame twice, so the
  // cache would only hold memory.
  sharp.cache(false);
  const bus = new EventBus(logger);
  const agent = new Agent(realDeps(config, logger, bus));
  const notify = new SdNotify({ logger });
  const shutdown = shutdownSignal(logger);
  try {
    await agent.start();
  } catch (err) {
    logger.fatal({ err }, 'the agent could not start');
    await agent.stop();
    throw new CliError(`cannot start: ${(err as Error).message}`, ExitCode.UNAVAILABLE);
  }
  // performance.now() counts from the process start: module loading is part of the start-up time.
  const readyMs = Math.round(performance.now());
  logger.info({ ready_ms: readyMs, device_id: config.device_id }, `edge-agent ready ${readyMs} ms after the process started`);
  await notify.ready('running');
  // After READY: loading fastify and prom-client is a few hundred ms of main-thread work the pipelines
  // need not wait for. A signal meanwhile is handled once they have started (stop() then stops them).
  await agent.startExtraServices();

  const signal = await shutdown;
  const stopping = performance.now();
  logger.info({ signal }, 'stopping');
  const deadline = setTimeout(() => {
    logger.fatal(`did not stop within ${STOP_DEADLINE_MS / 1000} s; exiting anyway`);
    process.exit(ExitCode.SOFTWARE);
  }, STOP_DEADLINE_MS);
  await notify.stopping();
  await agent.stop();
  clearTimeout(deadline);
  logger.info({ stop_ms: Math.round(performance.now() - stopping) }, 'stopped');
  return ExitCode.OK;
}

/**
 * Resolves with the first SIGTERM/SIGINT. A second one exits at once (a user pressing Ctrl-C twice).
 * An unhandled rejection is logged, never fatal: one failing promise must not stop months of uptime.
 */
function shutdownSignal(logger: Logger): Promise<NodeJS.Signals> {
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled promise rejection'));
  return new Promise((resolve) => {
    let received = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (received) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(ExitCode.SOFTWARE);
      }
      received = true;
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** The real drivers, models and optional services, from the configuration. */
function realDeps(config: AgentConfig, logger: Logger, bus: EventBus): AgentDeps {
  const registry = new ModelRegistry({ dataDir: config.data_dir, keepVersions: config.ota.keep_versions, logger });
  return {
    config,
    logger,
    bus,
    openHardware: () => openHardware(config, logger),
    openStore: () =>
      SqliteStore.open(join(config.data_dir, 'edge-agent.db'), { logger, bus, config: config.store, maxPayloadBytes: maxPayloadBytes(config.mqtt) }),
    loadIntruder: () => loadIntruder(config, registry, logger),
    loadForecaster: () => loadForecast(config, registry, logger),
    extraServices,
  };
}

async function openHardware(config: AgentConfig, logger: Logger): Promise<AgentHardware> {
  const alarmOutput = await createAlarmOutput(config.alarm, { logger });
  let sensor: AgentHardware['sensor'] = null;
  if (config.sensor.driver !== 'none') {
    try {
      sensor = await createTemperatureSensor(config.sensor, { logger });
      logger.info({ sensor: sensor.name }, 'temperature sensor ready');
    } catch (err) {
      // No sensor found is not a reason to leave the camera unwatched: telemetry is off, /health says why.
      logger.error({ err }, `temperature sensor unavailable, telemetry is off: ${(err as Error).message}`);
    }
  }
  const camera = config.camera;
  return { alarmOutput, sensor, createCamera: camera.driver === 'none' ? null : () => createCamera(camera, { logger }) };
}

/** The configured model, else the registry's active one; null (with one line saying how to get one) when none. */
async function loadIntruder(config: AgentConfig, registry: ModelRegistry, logger: Logger): Promise<IntruderDetector | null> {
  if (!config.intruder.enabled) return null;
  const source = await configuredOrActive('intruder', config.intruder.model, registry);
  if (!source) {
    logger.warn(
      'no intruder model installed, intrusion detection is off: install one with ' +
        '`npx edge-agent models install intruder file:///path/to/model.onnx --sha256 <sha256 of the file> --activate` ' +
        '(or set intruder.model), then restart',
    );
    return null;
  }
  return loadModel('intruder', source.path, logger, () => modelLoaders(config).intruder(source.path, source.identity));
}

async function loadForecast(config: AgentConfig, registry: ModelRegistry, logger: Logger): Promise<Forecaster | null> {
  if (!config.forecast.enabled) return null;
  const source = (await configuredOrActive('forecast', config.forecast.model, registry)) ?? { path: shippedModelPath('temperature-forecast.onnx') };
  return loadModel('forecast', source.path, logger, () => modelLoaders(config).forecast(source.path, source.identity));
}

/** A path from the config wins; else the registry's active version, named and versioned by its manifest. */
async function configuredOrActive(
  role: ModelRole,
  configuredPath: string | null,
  registry: ModelRegistry,
): Promise<{ path: string; identity?: ModelIdentity } | null> {
  if (configuredPath !== null) return { path: configuredPath };
  const active = await registry.active(role);
  return active && { path: active.path, identity: { name: active.manifest.name, version: active.manifest.version } };
}

/** A model that does not load leaves its pipeline idle (shown in /health), never the agent down. */
async function loadModel<T extends { info: { name: string; version: string } }>(role: string, path: string, logger: Logger, load: () => Promise<T>): Promise<T | null> {
  try {
    const model = await load();
    logger.info({ role, path, name: model.info.name, version: model.info.version }, `${role} model loaded`);
    return model;
  } catch (err) {
    logger.error({ err, role, path }, `${role} model not loaded: ${(err as Error).message}`);
    return null;
  }
}

/** The optional services; their modules are imported here, once the agent is ready, not at start-up. */
async function extraServices(context: AgentContext): Promise<Service[]> {
  const { config, logger, store, relay } = context;
  const { HomeAssistantDiscovery } = await import('../mqtt/homeassistant.js');
  const { createCalibrationService } = await import('../telemetry/calibration/setup.js');
  const version = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const ota = createOtaService(context);
  const calibration = createCalibrationService(context, ota);
  return [
    ...(config.http.enabled ? await httpServices(context) : []),
    ota,
    // After OTA: it promotes through it, and stops (cancelling a run) before it.
    ...(calibration ? [calibration] : []),
    new HomeAssistantDiscovery({
      config,
      baseTopic: relay.baseTopic,
      publish: (messages) => store.enqueue(messages),
      subscribe: (filter, handler) => relay.subscribe(filter, handler),
      device: { model: 'edge-agent', sw_version: version },
      stateFile: join(config.data_dir, 'homeassistant.json'),
      logger: logger.child({ module: 'homeassistant' }),
    }),
  ];
}

/**
 * The HTTP API and the metrics it serves. Not even imported when `http.enabled` is false: fastify and
 * prom-client cost about 5 MB of memory that nothing would use.
 */
async function httpServices(context: AgentContext): Promise<Service[]> {
  const { config, logger, bus, store, relay } = context;
  const [{ HttpServer }, { AgentMetrics }] = await Promise.all([import('../http/server.js'), import('../http/metrics.js')]);
  // mqttConnected: the relay connected before these services start, so the gauge cannot wait for an event.
  const metrics = new AgentMetrics({
    bus,
    outboxDepth: () => store.outboxDepth(),
    mqttConnected: () => relay.connected,
    models: { intruder: context.intruder, forecast: context.forecaster },
  });
  const server = new HttpServer({
    config,
    detector: context.intruder,
    forecaster: context.forecaster,
    health: context.health,
    status: store,
    metrics,
    bus,
    logger: logger.child({ module: 'http' }),
  });
  return [metrics, server];
}
