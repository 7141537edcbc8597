/**
 * Loads the models the daemon serves, chosen by agent/ota/model-choice.ts (configured path, else the
 * registry's active version, else the shipped forecaster). A model that does not load leaves its pipeline
 * idle (shown in /health), never the agent down.
 */
import type { Forecaster, IntruderDetector } from '../../models/types.js';
import type { AgentConfig } from '../config/types.js';
import type { Logger } from '../lib/log.js';
import { chooseModel, type ModelChoice } from '../ota/model-choice.js';
import type { ModelRegistry } from '../ota/registry.js';
import { modelLoaders } from '../ota/setup.js';
import type { ModelIdentity } from '../ota/validate.js';

/** The intruder detector, or null (with one line saying how to get one) when none is configured or installed. */
export async function loadIntruderModel(config: AgentConfig, registry: ModelRegistry, logger: Logger): Promise<IntruderDetector | null> {
  if (!config.intruder.enabled) return null;
  const choice = await chooseModel('intruder', config, (role) => registry.active(role));
  if (!choice) {
    logger.warn(
      'no intruder model installed, intrusion detection is off: install one with ' +
        '`npx edge-agent models install intruder file:///path/to/model.onnx --sha256 <sha256 of the file> --activate` ' +
        '(or set intruder.model), then restart',
    );
    return null;
  }
  return loadChosen(choice, logger, (path, identity) => modelLoaders(config).intruder(path, identity));
}

/** The forecaster: there is always a choice (the shipped model), but it may fail to load. */
export async function loadForecastModel(config: AgentConfig, registry: ModelRegistry, logger: Logger): Promise<Forecaster | null> {
  if (!config.forecast.enabled) return null;
  const choice = await chooseModel('forecast', config, (role) => registry.active(role));
  return choice && loadChosen(choice, logger, (path, identity) => modelLoaders(config).forecast(path, identity));
}

async function loadChosen<T extends { info: { name: string; version: string } }>(
  choice: ModelChoice,
  logger: Logger,
  load: (path: string, identity?: ModelIdentity) => Promise<T>,
): Promise<T | null> {
  const { role, path, manifest } = choice;
  // A registry version is named and versioned by its manifest, whatever the file's own metadata says.
  const identity = manifest ? { name: manifest.name, version: manifest.version } : undefined;
  try {
    const model = await load(path, identity);
    logger.info({ role, path, source: choice.source, name: model.info.name, version: model.info.version }, `${role} model loaded`);
    return model;
  } catch (err) {
    logger.error({ err, role, path }, `${role} model not loaded: ${(err as Error).message}`);
    return null;
  }
}
