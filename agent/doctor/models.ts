/**
 * The models the agent would run: the file it would pick (configured path, else the registry's active
 * version, else the shipped forecaster), present, identical to its manifest (sha256), and loadable by
 * the same loader the daemon uses.
 */
import { performance } from 'node:perf_hooks';
import { loadForecaster } from '../../models/forecast.js';
import { loadIntruderDetector } from '../../models/intruder.js';
import { chooseModel } from '../ota/model-choice.js';
import { hashFile, ModelRegistry, type InstalledModel, type ModelRole } from '../ota/registry.js';
import type { ModelInfo } from '../../models/types.js';
import { fail, pass, warn, type Check, type CheckResult, type DoctorContext } from './types.js';

function registryOf(context: DoctorContext): ModelRegistry {
  return new ModelRegistry({ dataDir: context.config.data_dir, keepVersions: context.config.ota.keep_versions });
}

/** The registry's active version, damaged or not: a pointer to a broken install must show here, not be skipped. */
function activeInstall(registry: ModelRegistry): (role: ModelRole) => Promise<InstalledModel | null> {
  return async (role) => (await registry.list(role)).find((m) => m.active) ?? null;
}

async function load(role: ModelRole, path: string, context: DoctorContext): Promise<ModelInfo> {
  if (role === 'forecast') {
    const forecaster = await loadForecaster(path);
    await forecaster.close();
    return forecaster.info;
  }
  const { threshold, iou, classes } = context.config.intruder;
  const detector = await loadIntruderDetector(path, { threshold, iou, classes, threads: 1 });
  await detector.close();
  return detector.info;
}

async function checkModel(role: ModelRole, context: DoctorContext): Promise<CheckResult> {
  const registry = registryOf(context);
  const chosen = await chooseModel(role, context.config, activeInstall(registry));
  // A pointer that cannot be used makes the agent serve another model: say so, whatever is served.
  const pointer = context.config[role].model === null ? await registry.pointerProblem(role) : null;
  if (pointer) {
    const serves = chosen ? `the agent serves ${chosen.source} instead` : 'the agent serves no model';
    return warn(`${pointer}; ${serves}`, `activate an installed version (edge-agent models list, then edge-agent models activate ${role} <version>)`);
  }
  if (!chosen) {
    const message = 'no intruder model configured or installed';
    const hint = 'install one: edge-agent models install intruder file:///path/to/model.onnx --sha256 <sha256>, or set intruder.model';
    // Without a camera only POST /v1/intruders needs it (it answers 503 meanwhile): not a reason to fail.
    return context.config.camera.driver === 'none' ? warn(`${message} (POST /v1/intruders answers 503)`, hint) : fail(message, hint);
  }
  const { path, source } = chosen;
  let verified = '';
  if (chosen.manifest) {
    const { sha256, size } = await hashFile(path).catch(() => ({ sha256: '', size: -1 }));
    if (size < 0) return fail(`${path} (${source}) is missing`, `reinstall it, or roll back: edge-agent models rollback ${role}`);
    if (sha256 !== chosen.manifest.sha256) {
      return fail(`${path} (${source}) does not match its manifest: sha256 ${sha256.slice(0, 12)}…, expected ${chosen.manifest.sha256.slice(0, 12)}…`, `the file is damaged: reinstall it or roll back (edge-agent models rollback ${role})`);
    }
    verified = ', sha256 matches its manifest';
  }
  const started = performance.now();
  try {
    const info = await load(role, path, context);
    return pass(`${info.name} ${info.version} (${source}${verified}), loads in ${Math.round(performance.now() - started)} ms`);
  } catch (err) {
    return fail(`${path} (${source}) does not load: ${(err as Error).message}`, `replace it with a working model, or roll back: edge-agent models rollback ${role}`);
  }
}

function modelCheck(role: ModelRole, title: string, off: string): Check {
  return {
    id: `${role}_model`,
    title,
    required: true,
    async run(context) {
      const enabled = role === 'intruder' ? context.config.intruder.enabled : context.config.forecast.enabled;
      return enabled ? checkModel(role, context) : pass(off);
    },
  };
}

export const intruderModelCheck = modelCheck('intruder', 'intruder model', 'intruder detection is off');
export const forecastModelCheck = modelCheck('forecast', 'forecast model', 'forecasting is off');
