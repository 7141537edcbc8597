/**
 * The daemon's process: wires the real drivers, models and services into an Agent, tells systemd when it
 * is ready, and on SIGTERM/SIGINT stops gracefully within 10 s. `edge-agent run` (agent/commands/run.ts)
 * loads the configuration and calls runDaemon().
 */
import { join } from 'node:path';
import sharp from 'sharp';
import { createCamera } from '../../drivers/camera/index.js';
import { createAlarmOutput } from '../../drivers/gpio/index.js';
import { createTemperatureSensor } from '../../drivers/sensors/index.js';
import type { ConfigSource } from '../config/load.js';
import type { AgentConfig } from '../config/types.js';
import { CliError, ExitCode } from '../lib/exit-codes.js';
import type { Logger } from '../lib/log.js';
import { maxPayloadBytes } from '../mqtt/client-options.js';
import { ModelRegistry } from '../ota/registry.js';
import { EventBus } from '../runtime/event-bus.js';
import { SqliteStore } from '../store/store.js';
import { ProvisioningRefusedError } from '../mqtt/provisioning/api.js';
import { Agent, type AgentDeps, type AgentHardware } from './agent.js';
import { provisionsByClaim, withAwsIdentity } from './aws-identity.js';
import { loadForecastModel, loadIntruderModel } from './models.js';
import { SdNotify } from './sd-notify.js';
import { cameraProfiles } from '../vision/camera-profiles.js';

/** systemd's default TimeoutStopSec is 90 s; the agent promises 10. */
const STOP_DEADLINE_MS = 10_000;

/** `source`: where `config` was loaded from (`cmd/config/set` writes there and loads it again the same way). */
export async function runDaemon(configured: AgentConfig, logger: Logger, source: ConfigSource = {}): Promise<number> {
  // libvips keeps recent decoded images for reuse; a camera never shows the same frame twice, so the
  // cache would only hold memory.
  sharp.cache(false);
  const notify = new SdNotify({ logger });
  const shutdown = shutdownSignal(logger);
  const config = await awsIdentityOrExit(configured, logger, notify, shutdown);
  if (config === null) return ExitCode.OK;
  const bus = new EventBus(logger);
  const agent = new Agent({ ...realDeps(config, logger, bus), configSource: source });
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
  await agent.startAfterReady();

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
 * The configuration with the device's AWS IoT identity (provisioned by claim when it has none yet), or
 * null when a signal ended the wait. A refusal by AWS IoT stops the daemon with the reason.
 */
async function awsIdentityOrExit(config: AgentConfig, logger: Logger, notify: SdNotify, shutdown: Promise<NodeJS.Signals>): Promise<AgentConfig | null> {
  if (!provisionsByClaim(config)) return config;
  const stop = new AbortController();
  void shutdown.then(() => stop.abort());
  try {
    return await withAwsIdentity(config, { logger, notify, signal: stop.signal });
  } catch (err) {
    if (stop.signal.aborted) return null;
    throw new CliError(`cannot provision by claim: ${(err as Error).message}`, err instanceof ProvisioningRefusedError ? ExitCode.CONFIG : ExitCode.UNAVAILABLE);
  }
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

/** The real drivers and models, from the configuration. */
function realDeps(config: AgentConfig, logger: Logger, bus: EventBus): AgentDeps {
  const registry = new ModelRegistry({ dataDir: config.data_dir, keepVersions: config.ota.keep_versions, logger });
  return {
    config,
    logger,
    bus,
    openHardware: () => openHardware(config, logger),
    openStore: () =>
      SqliteStore.open(join(config.data_dir, 'edge-agent.db'), { logger, bus, config: config.store, maxPayloadBytes: maxPayloadBytes(config.mqtt) }),
    loadIntruder: () => loadIntruderModel(config, registry, logger),
    loadForecaster: () => loadForecastModel(config, registry, logger),
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
  // Each camera's pipeline makes its cameras from its own options (agent/vision/camera-profiles.ts).
  const watched = cameraProfiles(config).length > 0;
  return { alarmOutput, sensor, createCamera: watched ? (options) => createCamera(options, { logger }) : null };
}

