/**
 * The ONNX graph every forecaster made by this project shares: the shipped network (scripts/train/) and
 * the room models the agent calibrates on the device (agent/telemetry/calibration/). Both predict the
 * change from the last reading, from the other readings' offsets to it:
 *
 *   last    = Slice(window, window-1 : window on axis 1)   [batch, 1]
 *   offsets = Sub(window, last)                            [batch, window] (the last column is 0)
 *   level   = the last reading, clamped to the training range (optional, see `levelOf`)
 *   change  = head(offsets, level)                         [batch, 1]
 *   celsius = Add(change, last)                            [batch, 1]
 *
 * Working on offsets keeps float32 exact enough: most weights multiply tenths of a degree, not 21 °C.
 * The contract the runtime reads (window, step_s, horizon_s, unit) goes in the metadata, so a model
 * built here is served, inspected and updated like any other forecaster.
 */
import { encodeModel, floatTensor, int64Tensor, node, tensorValueInfo, type NodeInit, type TensorInit } from './onnx-builder.js';
import { OnnxDataType } from './onnx-proto.js';

export const FORECAST_INPUT = 'window';
export const FORECAST_OUTPUT = 'celsius';

/** Nodes that compute `change` [batch, 1] from `offsets`, `last` (and `level` when the graph has one). */
export interface ForecastHead {
  nodes: NodeInit[];
  initializers: TensorInit[];
}

/**
 * The level input: the last reading clamped to the range seen in training. Beyond `marginC` outside that
 * range the level carries no information the model learnt (the training room never was there), so the
 * middle of the range stands in for it and the model forecasts from the hour's shape alone.
 */
export interface LevelSpec {
  range: readonly [number, number];
  marginC: number;
}

export interface ForecastGraphSpec {
  name: string;
  window: number;
  producer: { name: string; version: string };
  docString: string;
  metadata: Record<string, string>;
  head: ForecastHead;
  /** Adds the `level` value the head may read. */
  level?: LevelSpec;
}

/** The metadata keys that state a level input's range, so people and tools can see where the model is at home. */
export function levelMetadata(level: LevelSpec): Record<string, string> {
  return {
    level_min_celsius: level.range[0].toFixed(2),
    level_max_celsius: level.range[1].toFixed(2),
    level_margin_celsius: level.marginC.toFixed(2),
  };
}

export function encodeForecastGraph(spec: ForecastGraphSpec): Uint8Array {
  const { window, head, level } = spec;
  return encodeModel({
    irVersion: 8,
    opset: 13,
    producerName: spec.producer.name,
    producerVersion: spec.producer.version,
    docString: spec.docString,
    metadata: { ...spec.metadata, ...(level ? levelMetadata(level) : {}) },
    graph: {
      name: spec.name,
      nodes: [
        node('Slice', [FORECAST_INPUT, 'last_start', 'last_end', 'time_axis'], ['last']),
        node('Sub', [FORECAST_INPUT, 'last'], ['offsets']),
        ...(level ? levelNodes() : []),
        ...head.nodes,
        node('Add', ['change', 'last'], [FORECAST_OUTPUT]),
      ],
      initializers: [
        int64Tensor('last_start', [1], [window - 1]),
        int64Tensor('last_end', [1], [window]),
        int64Tensor('time_axis', [1], [1]),
        ...(level ? levelInitializers(level) : []),
        ...head.initializers,
      ],
      inputs: [tensorValueInfo(FORECAST_INPUT, OnnxDataType.FLOAT, ['batch', window])],
      outputs: [tensorValueInfo(FORECAST_OUTPUT, OnnxDataType.FLOAT, ['batch', 1])],
    },
  });
}

/** level = |last - clip(last)| > margin ? middle of the range : clip(last). */
function levelNodes(): NodeInit[] {
  return [
    node('Clip', ['last', 'level_min', 'level_max'], ['level_clipped']),
    node('Sub', ['last', 'level_clipped'], ['level_outside']),
    node('Abs', ['level_outside'], ['level_distance']),
    node('Greater', ['level_distance', 'level_margin'], ['level_far']),
    node('Where', ['level_far', 'level_middle', 'level_clipped'], ['level']),
  ];
}

function levelInitializers({ range, marginC }: LevelSpec): TensorInit[] {
  return [
    floatTensor('level_min', [], [range[0]]),
    floatTensor('level_max', [], [range[1]]),
    floatTensor('level_margin', [], [marginC]),
    floatTensor('level_middle', [], [(range[0] + range[1]) / 2]),
  ];
}

/**
 * The level the graph computes, in JavaScript: the training code trains and predicts with it, so its
 * predictions match onnxruntime's. The out-of-range test runs on float32 values as the graph does, so a
 * reading exactly at the margin goes the same way in both.
 */
export function levelOf(last: number, { range, marginC }: LevelSpec): number {
  const value = Math.fround(last);
  const clipped32 = Math.min(Math.max(value, Math.fround(range[0])), Math.fround(range[1]));
  if (Math.abs(Math.fround(value - clipped32)) > Math.fround(marginC)) return (range[0] + range[1]) / 2;
  return Math.min(Math.max(last, range[0]), range[1]);
}

/** change = offsets . weights + bias: a linear model on the offsets (`weights` has one entry per offset, `window` of them). */
export function linearHead(weights: ArrayLike<number>, bias: number): ForecastHead {
  return {
    nodes: [node('MatMul', ['offsets', 'weights'], ['change_weighted']), node('Add', ['change_weighted', 'bias'], ['change'])],
    initializers: [floatTensor('weights', [weights.length, 1], weights), floatTensor('bias', [1], [bias])],
  };
}
