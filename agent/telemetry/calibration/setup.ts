/**
 * Builds the forecast calibration for the daemon from the configuration and the agent's own parts (its
 * store, forecaster slot and OTA service), or says why it stays off.
 */
import { join } from 'node:path';
import type { AgentConfig } from '../../config/types.js';
import type { Logger } from '../../lib/log.js';
import type { ModelRole, ActiveModel } from '../../ota/registry.js';
import { modelLoaders } from '../../ota/setup.js';
import type { UpdateRequest } from '../../ota/updater.js';
import type { EventBus } from '../../runtime/event-bus.js';
import type { ModelSlot } from '../../runtime/model-slot.js';
import type { SqliteStore } from '../../store/store.js';
import type { Forecaster } from '../../../models/types.js';
import { CalibrationService } from './service.js';
import type { WorkerRunner } from './run-worker.js';

export interface CalibrationContext {
  config: Pick<AgentConfig, 'data_dir' | 'forecast' | 'ota' | 'intruder'>;
  store: SqliteStore;
  forecaster: ModelSlot<Forecaster>;
  bus: EventBus;
  logger: Logger;
}

/** The OTA service's part that a calibration uses (agent/ota/service.ts). */
export interface CalibrationOta {
  updateMadeOnDevice(request: UpdateRequest): Promise<ActiveModel>;
  active(role: ModelRole): Promise<ActiveModel | null>;
}

/** Why calibration stays off with this configuration, or null when it runs. */
export function calibrationOff(config: CalibrationContext['config']): string | null {
  const { forecast, ota } = config;
  if (!forecast.enabled) return 'forecasting is off (forecast.enabled)';
  if (!forecast.calibration.enabled) return 'forecast.calibration.enabled is false';
  if (forecast.model !== null) return 'forecast.model names a model file, which stays the one in use';
  if (ota.public_key !== null) return 'ota.public_key is set: only signed models may be installed, and a model made on this device cannot be signed';
  return null;
}

export function createCalibrationService(context: CalibrationContext, ota: CalibrationOta, options: { runWorker?: WorkerRunner } = {}): CalibrationService | null {
  const { config, store, forecaster, bus } = context;
  const logger = context.logger.child({ module: 'calibration' });
  const off = calibrationOff(config);
  if (off) {
    logger.info(`forecast calibration is off: ${off}`);
    return null;
  }
  const load = modelLoaders(config).forecast;
  return new CalibrationService({
    config: config.forecast.calibration,
    forecaster,
    store,
    promoter: { update: (request) => ota.updateMadeOnDevice(request), active: () => ota.active('forecast') },
    loadCandidate: (path) => load(path),
    workDir: join(config.data_dir, 'calibration'),
    bus,
    logger,
    ...(options.runWorker ? { runWorker: options.runWorker } : {}),
  });
}
