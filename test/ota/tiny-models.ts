import { encodeModel, floatTensor, node, tensorValueInfo } from '../../models/onnx-builder.js';
import { OnnxDataType } from '../../models/onnx-proto.js';

/** The forecaster contract in ONNX metadata, as models/forecast.ts reads it. */
export const FORECAST_CONTRACT = { window: '60', step_s: '60', horizon_s: '3600', unit: 'Celsius' };

/**
 * A valid ONNX file that is no detector: y[1,1] = scale x mean of x[1,60] (one MatMul). Offered as an
 * intruder model it must be refused for its shapes, not for being unreadable; with the forecaster
 * contract in its metadata it is a (naive) forecaster, and with a scale far from 1 a badly exported one.
 */
export function averagingModel(metadata: Record<string, string> = {}, scale = 1, window = 60): Buffer {
  return Buffer.from(
    encodeModel({
      graph: {
        name: 'average',
        nodes: [node('MatMul', ['x', 'w'], ['y'])],
        initializers: [floatTensor('w', [window, 1], new Array<number>(window).fill(scale / window))],
        inputs: [tensorValueInfo('x', OnnxDataType.FLOAT, [1, window])],
        outputs: [tensorValueInfo('y', OnnxDataType.FLOAT, [1, 1])],
      },
      opset: 13,
      irVersion: 8,
      producerName: 'edge-agent-test',
      producerVersion: '0',
      metadata,
    }),
  );
}
