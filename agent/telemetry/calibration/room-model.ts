/**
 * The room model the agent calibrates on the device: ridge regression of the next hour's change on the
 * offsets of the window's readings to the last one (the hour's shape), plus an intercept (the room's
 * drift). Chosen by measurement (docs/forecaster.md, "Choosing the method"): it depends on the shape
 * only, never on the level, so it behaves the same at 5 °C as at 30 °C and cannot mistake a weekend for
 * a cold night; it fits in milliseconds, and with two or three days of readings it was as good as a
 * refitted network on the rooms measured, at a hundredth of the CPU.
 *
 * Exported as an ONNX file with the forecaster contract in its metadata (models/forecast-graph.ts), so
 * it is served, validated, installed and rolled back like any forecaster.
 */
import { encodeForecastGraph, linearHead } from '../../../models/forecast-graph.js';
import type { Examples, TaskSpec } from './dataset.js';
import { fitLinearRows, predictLinear, type LinearModel, type RowSource } from './linear.js';

export const ROOM_MODEL_NAME = 'temperature-forecast-room';
/** Ridge penalty on the offsets' weights: little (the offsets are tenths of a degree), enough to keep the fit stable on a flat day. */
export const RIDGE_LAMBDA = 1;

const lastOf = (window: ArrayLike<number>) => window[window.length - 1] as number;

/** The model's inputs: the offsets of the first window-1 readings to the last one, written into `into`. */
function offsets(window: ArrayLike<number>, into: Float64Array = new Float64Array(window.length - 1)): Float64Array {
  const last = lastOf(window);
  for (let k = 0; k < into.length; k++) into[k] = (window[k] as number) - last;
  return into;
}

/** Fits on the examples one at a time (they are not copied into memory). */
export function fitRoomModel(training: Examples, window: number): LinearModel {
  const values = new Float64Array(window);
  const lastOfExample = (i: number) => {
    training.window(i, values);
    return lastOf(values);
  };
  const rows: RowSource = {
    count: training.count,
    width: window - 1,
    row: (i, into) => {
      training.window(i, values);
      offsets(values, into);
    },
    target: (i) => training.target(i) - lastOfExample(i),
  };
  return fitLinearRows(rows, { lambda: RIDGE_LAMBDA });
}

/** The prediction in float64, as the ONNX graph computes it in float32. */
export function predictRoom(model: LinearModel, window: ArrayLike<number>): number {
  return lastOf(window) + predictLinear(model, offsets(window));
}

export interface RoomModelInfo {
  version: string;
  spec: TaskSpec;
  /** Sentences for the metadata: what it was trained and judged on. */
  trainingData: string;
  validationData: string;
  validationMae: number;
  validationPersistenceMae: number;
}

export function roomModelBytes(model: LinearModel, info: RoomModelInfo): Uint8Array {
  const { spec } = info;
  // The graph's offsets have `window` columns; the last one (the last reading's own offset) is always 0.
  const weights = [...model.weights, 0];
  return encodeForecastGraph({
    name: ROOM_MODEL_NAME,
    window: spec.window,
    producer: { name: 'edge-agent forecast calibration', version: info.version },
    docString: `Temperature ${spec.horizon_s} s after the last of ${spec.window} readings taken ${spec.step_s} s apart (oldest first), in Celsius; fitted on this device to its room.`,
    metadata: {
      name: ROOM_MODEL_NAME,
      version: info.version,
      window: String(spec.window),
      step_s: String(spec.step_s),
      horizon_s: String(spec.horizon_s),
      unit: 'Celsius',
      method: `Ridge regression (lambda ${RIDGE_LAMBDA}) of the change from the last reading on the other readings' offsets to it, with an intercept; fitted on this device`,
      training_data: info.trainingData,
      validation_data: info.validationData,
      validation_mae_celsius: info.validationMae.toFixed(4),
      validation_mae_persistence_celsius: info.validationPersistenceMae.toFixed(4),
    },
    head: linearHead(weights, model.bias),
  });
}
