/**
 * The trained forecaster as an ONNX graph (the frame every forecaster of this project shares, in
 * models/forecast-graph.ts, with the network as its head), and the check that onnxruntime reproduces the
 * training script's own predictions from it.
 *
 * Head, for a batch of windows [batch, 60]:
 *   hidden = Relu(offsets x W1o + level x W1l + b1)   [batch, H]
 *   change = hidden x W2 + b2                         [batch, 1]
 */
import * as ort from '../../models/onnxruntime.js';
import { encodeForecastGraph, FORECAST_INPUT, FORECAST_OUTPUT, type ForecastHead } from '../../models/forecast-graph.js';
import { floatTensor, node } from '../../models/onnx-builder.js';
import type { FoldedMlp } from './forecast-mlp.js';
import { LEVEL_MARGIN_C, NETWORK_CONFIG, TASK, type TrainedForecaster } from './forecast-training.js';

export const MODEL_NAME = 'temperature-forecast';
/** Bump when a retrained model changes its predictions. */
export const MODEL_VERSION = '1.1.0';
export const INPUT_NAME = FORECAST_INPUT;
export const OUTPUT_NAME = FORECAST_OUTPUT;

export const DATA_CREDIT =
  'UCI Occupancy Detection data set (Candanedo and Feldheim, 2016), CC BY 4.0, https://archive.ics.uci.edu/dataset/357/occupancy+detection';

export function formatCelsius(mae: number): string {
  return mae.toFixed(4);
}

/** One sentence for the metadata's `method`. */
function describeMethod(): string {
  const { members, mlp } = NETWORK_CONFIG;
  return (
    `Mean of ${members} ReLU networks (${mlp.hidden} hidden units each, Huber loss, Adam, ${mlp.epochs} epochs, seeds 1-${members}) predicting the change ` +
    `from the last reading from the other readings' offsets to it and the last reading clamped to the training range ` +
    `(more than ${LEVEL_MARGIN_C} °C outside it, the range's middle: the hour's shape alone)`
  );
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

/** The network as the graph's head: it reads `offsets` (its last column is 0, so W1o gets a zero row) and `level`. */
function networkHead(net: FoldedMlp): ForecastHead {
  const hidden = net.hidden;
  const offsetWeights = new Float64Array(TASK.window * hidden);
  offsetWeights.set(net.w1.subarray(0, (TASK.window - 1) * hidden));
  const levelWeights = net.w1.subarray((TASK.window - 1) * hidden, TASK.window * hidden);
  return {
    nodes: [
      node('MatMul', ['offsets', 'w1_offsets'], ['from_offsets']),
      node('MatMul', ['level', 'w1_level'], ['from_level']),
      node('Add', ['from_offsets', 'from_level'], ['weighted']),
      node('Add', ['weighted', 'b1'], ['pre_activation']),
      node('Relu', ['pre_activation'], ['hidden']),
      node('MatMul', ['hidden', 'w2'], ['change_weighted']),
      node('Add', ['change_weighted', 'b2'], ['change']),
    ],
    initializers: [
      floatTensor('w1_offsets', [TASK.window, hidden], offsetWeights),
      floatTensor('w1_level', [1, hidden], levelWeights),
      floatTensor('b1', [hidden], net.b1),
      floatTensor('w2', [hidden, 1], net.w2),
      floatTensor('b2', [1], [net.b2]),
    ],
  };
}

export function buildForecastOnnx(trained: TrainedForecaster): Uint8Array {
  return encodeForecastGraph({
    name: MODEL_NAME,
    window: TASK.window,
    producer: { name: 'edge-agent scripts/train/train-forecast.ts', version: MODEL_VERSION },
    docString: `Temperature ${TASK.horizonS / 60} minutes after the last of ${TASK.window} readings taken ${TASK.stepS} s apart (oldest first), in Celsius.`,
    metadata: forecastMetadata(trained),
    head: networkHead(trained.model.net),
    level: { range: trained.model.levelRange, marginC: LEVEL_MARGIN_C },
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
