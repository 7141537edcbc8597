/**
 * Which model file a role runs: the path configured for it (`intruder.model`, `forecast.model`), else the
 * registry's active version, else, for the forecaster, the model shipped in the package. The daemon loads
 * what this chooses and `edge-agent doctor` checks the same choice.
 */
import type { AgentConfig } from '../config/types.js';
import { shippedModelPath } from '../lib/paths.js';
import type { InstalledModel, ModelManifest, ModelRole } from './registry.js';

export interface ModelChoice {
  role: ModelRole;
  path: string;
  /** Where the choice came from, in words: `intruder.model`, `registry 3`, `shipped`. */
  source: string;
  /** The registry's manifest of the chosen version (null for a configured path or the shipped model). */
  manifest: ModelManifest | null;
}

/** The file the shipped forecaster lives in (models/ of the package). */
export const SHIPPED_FORECASTER = 'temperature-forecast.onnx';

/**
 * `activeOf` reads the registry's active version: the daemon passes `registry.active` (which ignores an
 * incomplete install, with a warning), doctor a lookup that also returns a damaged one so it can say so.
 */
export async function chooseModel(
  role: ModelRole,
  config: Pick<AgentConfig, 'intruder' | 'forecast'>,
  activeOf: (role: ModelRole) => Promise<InstalledModel | null>,
): Promise<ModelChoice | null> {
  const configured = role === 'intruder' ? config.intruder.model : config.forecast.model;
  if (configured !== null) return { role, path: configured, source: `${role}.model`, manifest: null };
  const active = await activeOf(role);
  if (active) return { role, path: active.path, source: `registry ${active.manifest.version}`, manifest: active.manifest };
  if (role === 'forecast') return { role, path: shippedModelPath(SHIPPED_FORECASTER), source: 'shipped', manifest: null };
  return null;
}
