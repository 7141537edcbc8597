/**
 * One calibration, as the worker thread runs it: the room's examples from its readings, the ridge fit on
 * all but the last day, the candidate's ONNX bytes, and the held-out day for the agent to judge it on
 * with onnxruntime. No I/O here (the worker reads the readings), so tests run it directly too.
 */
import type { ValidReading } from '../../store/types.js';
import { calibrationData, type Examples, type TaskSpec } from './dataset.js';
import { fitRoomModel, predictRoom, roomModelBytes } from './room-model.js';

export interface CalibrationJob {
  /** The SQLite file the worker reads readings from. */
  dbPath: string;
  /** Readings from here (the newest `max_days`, or the first reading) ... */
  fromTs: number;
  /** ... to here: the data time the calibration runs at. */
  endTs: number;
  spec: TaskSpec;
  holdoutMs: number;
  /** The candidate's version (a registry folder name). */
  version: string;
  /** Fewer examples than these and there is nothing worth fitting or judging. */
  minTrainingWindows: number;
  minHoldoutWindows: number;
}

export interface CalibrationFit {
  onnx: Uint8Array;
  training: { count: number; span: [number, number] };
  /** The held-out windows, flat (`count` x window), for onnxruntime. */
  holdout: { windows: Float32Array; targets: Float64Array; count: number; span: [number, number] };
  /** Steps of the history, and how many had a reading. */
  steps: number;
  stepsWithReading: number;
}

export interface CalibrationCost {
  /** CPU time of the worker thread (null where the OS does not say). */
  cpu_ms: number | null;
  wall_ms: number;
  /** The worker's largest V8 heap plus typed-array memory, sampled at each stage. */
  peak_bytes: number;
}

export type WorkerReply = { ok: true; fit: CalibrationFit; cost: CalibrationCost } | { ok: false; error: string; cost: CalibrationCost };

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

function describe(part: Examples, what: string): string {
  const [from, to] = part.span!;
  return `${part.count} windows whose target is from ${iso(from)} to ${iso(to)} UTC (${what})`;
}

/** The held-out windows, flat (for onnxruntime), with the model's and persistence's errors on them. */
function heldOut(holdout: Examples, width: number, predict: (window: Float64Array) => number) {
  const windows = new Float32Array(holdout.count * width);
  const targets = new Float64Array(holdout.count);
  const values = new Float64Array(width);
  let modelError = 0;
  let persistenceError = 0;
  for (let i = 0; i < holdout.count; i++) {
    holdout.window(i, values);
    windows.set(values, i * width);
    targets[i] = holdout.target(i);
    modelError += Math.abs(predict(values) - targets[i]!);
    persistenceError += Math.abs(values[width - 1]! - targets[i]!);
  }
  return { windows, targets, mae: modelError / holdout.count, persistenceMae: persistenceError / holdout.count };
}

/** Fits a candidate on `readings` (sorted oldest first, from `job.fromTs` to `job.endTs`). Throws with the reason when there is too little data. */
export function runCalibration(readings: Iterable<ValidReading>, job: CalibrationJob, sample: () => void = () => {}): CalibrationFit {
  const data = calibrationData(readings, job.fromTs, job.endTs, job.spec, job.holdoutMs);
  sample();
  const { training, holdout } = data;
  if (training.count < job.minTrainingWindows || holdout.count < job.minHoldoutWindows) {
    throw new Error(
      `too few gap-free windows to calibrate: ${training.count} to train on (at least ${job.minTrainingWindows}) and ` +
        `${holdout.count} in the last day (at least ${job.minHoldoutWindows}); ${data.stepsWithReading} of ${data.steps} steps have a reading`,
    );
  }
  const model = fitRoomModel(training, job.spec.window);
  sample();
  const day = heldOut(holdout, job.spec.window, (w) => predictRoom(model, w));
  const onnx = roomModelBytes(model, {
    version: job.version,
    spec: job.spec,
    trainingData: describe(training, 'readings of this device'),
    validationData: describe(holdout, 'the last day, not trained on'),
    validationMae: day.mae,
    validationPersistenceMae: day.persistenceMae,
  });
  sample();
  return {
    onnx,
    training: { count: training.count, span: training.span! },
    holdout: { windows: day.windows, targets: day.targets, count: holdout.count, span: holdout.span! },
    steps: data.steps,
    stepsWithReading: data.stepsWithReading,
  };
}
