/**
 * Builds the OTA pieces from the configuration, the same way for the daemon and for `edge-agent models`:
 * the loaders (the pipelines' own thresholds, classes and threads, so a model is validated as it will
 * run) and an updater with the fetch limits, the extra CA and the signing key.
 */
import type { AgentConfig } from '../config/types.js';
import type { EventBus } from '../runtime/event-bus.js';
import { InputFileError, readRegularFileSync } from '../lib/input-file.js';
import type { Logger } from '../lib/log.js';
import { loadForecaster } from '../../models/forecast.js';
import { loadIntruderDetector } from '../../models/intruder.js';
import { ModelRegistry } from './registry.js';
import { OtaService, type OtaServiceDeps, type OtaSlot } from './service.js';
import type { ModelCommandsDeps, OtaMqtt, OtaOutbox } from './mqtt-commands.js';
import { ModelUpdater, type UpdaterDeps } from './updater.js';
import type { ModelLoaders, RoleModels } from './validate.js';
import { loadPublicKey, MAX_PEM_BYTES } from './verify.js';

export function modelLoaders(config: Pick<AgentConfig, 'intruder'>): ModelLoaders {
  const { threshold, iou, classes, threads } = config.intruder;
  return {
    intruder: (path, identity) => loadIntruderDetector(path, { threshold, iou, classes, ...identity, ...(threads === null ? {} : { threads }) }),
    forecast: (path, identity) => loadForecaster(path, { ...identity }),
  };
}

/** The slowest download `ota.download_timeout_s: null` waits for: 128 KB/s (1 Mbit/s), and never less than a minute. */
export const MIN_DOWNLOAD_BYTES_PER_S = 128 * 1024;
const MIN_DOWNLOAD_DEADLINE_S = 60;

/** `ota.download_timeout_s`, or the time `ota.max_bytes` takes at the minimum rate, in ms. */
export function downloadDeadlineMs(ota: Pick<AgentConfig['ota'], 'download_timeout_s' | 'max_bytes'>): number {
  const seconds = ota.download_timeout_s ?? Math.max(MIN_DOWNLOAD_DEADLINE_S, Math.ceil(ota.max_bytes / MIN_DOWNLOAD_BYTES_PER_S));
  return seconds * 1000;
}

export interface UpdaterParts {
  registry: ModelRegistry;
  updater: ModelUpdater;
}

/**
 * Where updates come from: `remote` (the daemon: MQTT commands, AWS IoT Jobs, Home Assistant; unsigned
 * ones only with `ota.allow_unsigned_remote_updates`) or `local` (`edge-agent models` run by someone on
 * the device, who needs a key only when `ota.public_key` is set).
 */
export type UpdateOrigin = 'remote' | 'local';

/**
 * The registry under `data_dir` and an updater configured from `ota.*`, for remote updates unless told
 * otherwise. Throws an Error naming the key when `ota.ca` or `ota.public_key` cannot be read.
 */
export function createUpdater(
  config: Pick<AgentConfig, 'data_dir' | 'ota' | 'intruder'>,
  options: { logger: Logger; bus?: EventBus; slots?: UpdaterDeps['slots']; origin?: UpdateOrigin },
): UpdaterParts {
  const { ota } = config;
  const registry = new ModelRegistry({ dataDir: config.data_dir, keepVersions: ota.keep_versions, logger: options.logger });
  const updater = new ModelUpdater({
    registry,
    loaders: modelLoaders(config),
    fetch: {
      maxBytes: ota.max_bytes,
      connectTimeoutMs: ota.connect_timeout_s * 1000,
      readTimeoutMs: ota.read_timeout_s * 1000,
      deadlineMs: downloadDeadlineMs(ota),
      ca: ota.ca === null ? null : readCa(ota.ca),
    },
    publicKey: ota.public_key === null ? null : loadPublicKey(ota.public_key),
    acceptUnsigned: options.origin === 'local' || ota.allow_unsigned_remote_updates,
    logger: options.logger,
    ...(options.bus ? { bus: options.bus } : {}),
    ...(options.slots ? { slots: options.slots } : {}),
  });
  return { registry, updater };
}

function readCa(path: string): string {
  try {
    return readRegularFileSync(path, MAX_PEM_BYTES).toString('utf8');
  } catch (err) {
    if (err instanceof InputFileError) throw new Error(`ota.ca: ${err.message}`);
    throw new Error(`ota.ca: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** What the agent has that OTA needs (the daemon's AgentParts provide all of it). */
export interface OtaContext {
  config: AgentConfig;
  logger: Logger;
  bus: EventBus;
  store: OtaOutbox;
  relay: OtaMqtt;
  messages: OtaServiceDeps['messages'];
  commands: ModelCommandsDeps['commands'];
  intruder: OtaSlot<RoleModels['intruder']>;
  forecaster: OtaSlot<RoleModels['forecast']>;
}

/**
 * The daemon's OTA service, wired from the agent's parts. Throws when `ota.public_key` cannot be
 * loaded (a configuration error: better refused at start than every update refused later).
 */
export function createOtaService(context: OtaContext): OtaService {
  const { config, logger, bus, commands } = context;
  const slots = { intruder: context.intruder, forecast: context.forecaster };
  const { registry, updater } = createUpdater(config, { logger, bus, slots });
  return new OtaService({ config, registry, updater, mqtt: context.relay, commands, outbox: context.store, messages: context.messages, bus, logger, slots });
}
