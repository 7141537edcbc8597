/**
 * The trained forecaster as an ONNX graph, and the check that onnxruntime reproduces the training
 * script's own predictions from it.
 *
 * Graph (float32, opset 13), for a batch of windows [batch, 60]:
 *   last    = Slice(window, 59:60 on axis 1)                     [batch, 1]
 *   offsets = Sub(window, last)                                  [batch, 60] (the last column is 0)
 *   level   = Clip(last, lowest, highest level seen in training) [batch, 1]
 *   hidden  = Relu(offsets x W1o + level x W1l + b1)             [batch, H]
 *   celsius = last + (hidden x W2 + b2)                          [batch, 1]
 * Working on offsets keeps float32 exact enough: most weights multiply tenths of a degree, not 21 °C.
 */
import * as ort from '../../models/onnxruntime.js';
import { encodeModel, floatTensor, int64Tensor, node, tensorValueInfo } from '../../models/onnx-builder.js';
import { OnnxDataType } from '../../models/onnx-proto.js';
import { NETWORK_CONFIG, TASK, type TrainedForecaster } from './forecast-training.js';

export const MODEL_NAME = 'temperature-forecast';
/** Bump when a retrained model changes its predictions. */
export const MODEL_VERSION = '1.0.0';
export const INPUT_NAME = 'window';
export const OUTPUT_NAME = 'celsius';

export const DATA_CREDIT =
  'UCI Occupancy Detection data set (Candanedo and Feldheim, 2016), CC BY 4.0, https://archive.ics.uci.edu/dataset/357/occupancy+detection';

export function formatCelsius(mae: number): string {
  return mae.toFixed(4);
}

/** One sentence for the metadata's `method`. */
function describeMethod(): string {
  const { members, mlp } = NETWORK_CONFIG;
  return `Mean of ${members} ReLU networks (${mlp.hidden} hidden units each, Huber loss, Adam, ${mlp.epochs} epochs, seeds 1-${members}) predicting the change from the last reading from the other readings' offsets to it and the clamped last reading`;
}

/** The contract the runtime reads, plus provenance and validation metrics for people and OTA checks. */
export function forecastMetadata(trained: TrainedForecaster): Record<string, string> {
  const { counts, metrics } = trained;
  return {
    name: MODEL_NAME,
    version: MODEL_VERSION,
    window: String(TASK.window),
    step_s: String(TASK.stepS),
    horizon_s: String(TASK.horizonS),
    unit: 'Celsius',
    method: describeMethod(),
    training_data: `datatraining.txt: ${counts.trainingReadings} readings, ${counts.trainingWindows} windows; ${DATA_CREDIT}`,
    validation_data: `datatest.txt: ${counts.testReadings} readings, ${counts.testWindows} windows`,
    validation_mae_celsius: formatCelsius(metrics.model),
    validation_mae_persistence_celsius: formatCelsius(metrics.persistence),
    validation_mae_least_squares_celsius: formatCelsius(metrics.leastSquares),
    validation_mae_least_squares_no_intercept_celsius: formatCelsius(metrics.leastSquaresNoIntercept),
  };
}

export function buildForecastOnnx(trained: TrainedForecaster): Uint8Array {
  const { net, levelRange } = trained.model;
  const hidden = net.hidden;
  // W1 split by input: the offsets' rows (plus a zero row for the last offset, always 0) and the level's row.
  const offsetWeights = new Float64Array(TASK.window * hidden);
  offsetWeights.set(net.w1.subarray(0, (TASK.window - 1) * hidden));
  const levelWeights = net.w1.subarray((TASK.window - 1) * hidden, TASK.window * hidden);
  return encodeModel({
    irVersion: 8,
    opset: 13,
    producerName: 'edge-agent scripts/train/train-forecast.ts',
    producerVersion: MODEL_VERSION,
    docString: `Temperature ${TASK.horizonS / 60} minutes after the last of ${TASK.window} readings taken ${TASK.stepS} s apart (oldest first), in Celsius.`,
    metadata: forecastMetadata(trained),
    graph: {
      name: MODEL_NAME,
      nodes: [
        node('Slice', [INPUT_NAME, 'last_start', 'last_end', 'time_axis'], ['last']),
        node('Sub', [INPUT_NAME, 'last'], ['offsets']),
        node('Clip', ['last', 'level_min', 'level_max'], ['level']),
        node('MatMul', ['offsets', 'w1_offsets'], ['from_offsets']),
        node('MatMul', ['level', 'w1_level'], ['from_level']),
        node('Add', ['from_offsets', 'from_level'], ['weighted']),
        node('Add', ['weighted', 'b1'], ['pre_activation']),
        node('Relu', ['pre_activation'], ['hidden']),
        node('MatMul', ['hidden', 'w2'], ['change_weighted']),
        node('Add', ['change_weighted', 'b2'], ['change']),
        node('Add', ['change', 'last'], [OUTPUT_NAME]),
      ],
      initializers: [
        int64Tensor('last_start', [1], [TASK.window - 1]),
        int64Tensor('last_end', [1], [TASK.window]),
        int64Tensor('time_axis', [1], [1]),
        floatTensor('level_min', [], [levelRange[0]]),
        floatTensor('level_max', [], [levelRange[1]]),
        floatTensor('w1_offsets', [TASK.window, hidden], offsetWeights),
        floatTensor('w1_level', [1, hidden], levelWeights),
        floatTensor('b1', [hidden], net.b1),
        floatTensor('w2', [hidden, 1], net.w2),
        floatTensor('b2', [1], [net.b2]),
      ],
      inputs: [tensorValueInfo(INPUT_NAME, OnnxDataType.FLOAT, ['batch', TASK.window])],
      outputs: [tensorValueInfo(OUTPUT_NAME, OnnxDataType.FLOAT, ['batch', 1])],
    },
  });
}

/**
 * Runs the windows through onnxruntime in one batch and returns the largest absolute difference from
 * the expected (float64) predictions.
 */
export async function largestOnnxDeviation(modelBytes: Uint8Array, windows: readonly Float64Array[], expected: ArrayLike<number>): Promise<number> {
  const session = await ort.InferenceSession.create(modelBytes);
  try {
    const input = new Float32Array(windows.length * TASK.window);
    windows.forEach((w, i) => input.set(w, i * TASK.window));
    const outputs = await session.run({ [INPUT_NAME]: new ort.Tensor('float32', input, [windows.length, TASK.window]) });
    const predicted = outputs[OUTPUT_NAME]?.data as Float32Array;
    let largest = 0;
    for (let i = 0; i < windows.length; i++) largest = Math.max(largest, Math.abs((predicted[i] as number) - (expected[i] as number)));
    return largest;
  } finally {
    await session.release();
  }
}
