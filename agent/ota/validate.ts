/**
 * The proof a new model gives before it takes over: it loads in a session of its own (the serving model
 * is untouched), the role's loader checks its contract (intruder: an image input and a `[1, 4+nc, N]`
 * output; forecast: the 60-step window contract in its metadata), and it answers one sample. The model
 * that passed is returned open, so activation hands this very session to the pipeline.
 */
import type { Forecaster, IntruderDetector } from '../../models/types.js';
import type { ModelRole } from './registry.js';
import { OtaError } from './errors.js';

export interface RoleModels {
  intruder: IntruderDetector;
  forecast: Forecaster;
}

/** Identity the registry gives a model, passed to the loader so the pipeline reports the right name and version. */
export interface ModelIdentity {
  name: string;
  version: string;
}

/** Opens a model of each role as the daemon will use it (its thresholds, classes, threads come from config). */
export interface ModelLoaders {
  /** Without an identity the name and version come from the file (a model configured by path). */
  intruder(path: string, identity?: ModelIdentity): Promise<IntruderDetector>;
  forecast(path: string, identity?: ModelIdentity): Promise<Forecaster>;
}

/** The forecaster's sample is a flat hour at this temperature... */
const SAMPLE_CELSIUS = 20;
/**
 * ...and a sane forecaster predicts roughly the same for it. A model exported without its output scaling
 * (or trained for another unit) lands far away and would raise false temperature alerts, so it is refused.
 */
const MAX_FLAT_DEVIATION_C = 15;
const SAMPLE_IMAGE = { width: 96, height: 64 };

/** Loads and checks a model file for a role; returns it open, or throws an OtaError('invalid_model') with the reason. */
export async function validateModel<R extends ModelRole>(
  role: R,
  path: string,
  identity: ModelIdentity,
  loaders: ModelLoaders,
): Promise<RoleModels[R]> {
  let model: RoleModels[R];
  try {
    model = (await loaders[role](path, identity)) as RoleModels[R];
  } catch (err) {
    throw new OtaError('invalid_model', `not a usable ${role} model: ${stripPath((err as Error).message, path)}`);
  }
  try {
    if (role === 'intruder') await sampleDetection(model as IntruderDetector);
    else await sampleForecast(model as Forecaster);
    return model;
  } catch (err) {
    await model.close().catch(() => undefined);
    const reason = err instanceof OtaError ? err.message : `the sample run failed: ${(err as Error).message}`;
    throw new OtaError('invalid_model', `${role} model ${identity.version} ${reason}`);
  }
}

/** A small synthetic frame (a gradient, so it is not all one value): the detector must return a well-formed result. */
async function sampleDetection(detector: IntruderDetector): Promise<void> {
  const { width, height } = SAMPLE_IMAGE;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 256;
  const result = await detector.detect({ data, width, height });
  const wellFormed =
    Array.isArray(result.objects) &&
    Number.isInteger(result.total_objects) &&
    result.total_objects >= result.objects.length &&
    result.objects.every((o) => Number.isFinite(o.confidence) && Number.isFinite(o.bbox.xmin) && Number.isFinite(o.bbox.ymax));
  if (!wellFormed) throw new OtaError('invalid_model', 'returned a malformed detection result for a sample image');
}

async function sampleForecast(forecaster: Forecaster): Promise<void> {
  const window = new Array<number>(forecaster.contract.window).fill(SAMPLE_CELSIUS);
  const predicted = await forecaster.forecast(window);
  if (!Number.isFinite(predicted) || Math.abs(predicted - SAMPLE_CELSIUS) > MAX_FLAT_DEVIATION_C) {
    throw new OtaError(
      'invalid_model',
      `predicts ${predicted} °C after a flat hour at ${SAMPLE_CELSIUS} °C (more than ${MAX_FLAT_DEVIATION_C} °C off): wrong scaling or unit`,
    );
  }
}

/** Loader errors start with the file path; the registry path means nothing to whoever sent the update. */
function stripPath(message: string, path: string): string {
  return message.startsWith(`${path}: `) ? message.slice(path.length + 2) : message;
}
