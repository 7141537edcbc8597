/**
 * Re-targets a fixed-input YOLOv8 detection graph (an Ultralytics ONNX export) to another square input
 * size, with the same weights: what `yolo export imgsz=320` would have given.
 *
 * Why this works: only the detection head knows the input size. Ultralytics' export bakes in one anchor
 * point and one stride per grid cell (8400 cells at 640: 80x80 + 40x40 + 20x20 for strides 8, 16, 32)
 * as constants, and the DFL reshapes name that count; the convolutions, pooling, 2x upsampling and the
 * other reshapes (`[1, 64, -1]`) do not depend on it. Rewriting those constants and the declared input and
 * output shapes is the whole change. Shape annotations of intermediate values (`value_info`) are dropped:
 * onnxruntime infers them again, and stale 640 ones would contradict the new input.
 *
 * It lets the project measure and run the fixture at 320 without a Python toolchain; a user can as well
 * export at 320 with Ultralytics. Only what the project's ONNX subset schema (onnx-proto.ts) knows is
 * kept, which is all an Ultralytics export (also dynamically quantized) holds; the test checks that a
 * model re-targeted to its own size gives the original's output bit for bit.
 */
import type protobuf from 'protobufjs';
import { onnx } from './onnx-proto.js';
import { checkInputSize } from './yolo-model.js';

/** YOLOv8's detection strides (P3, P4, P5). */
const STRIDES = [8, 16, 32] as const;
const FLOAT = 1;
const INT64 = 7;

interface Tensor {
  name?: string;
  dims: (number | Long)[];
  data_type: number;
  raw_data?: Uint8Array;
  float_data?: number[];
  int64_data?: (number | Long)[];
}
/** protobufjs' 64-bit integers (the `long` package), as decoded int64 fields come. */
interface Long {
  toString(): string;
}
interface Dim {
  dim_value?: number | Long;
  dim_param?: string;
}
interface ValueInfo {
  name: string;
  type?: { tensor_type?: { shape?: { dim: Dim[] } } };
}
interface Model {
  metadata_props: { key: string; value: string }[];
  graph: {
    node: { op_type: string; attribute: { t?: Tensor }[] }[];
    initializer: Tensor[];
    input: ValueInfo[];
    output: ValueInfo[];
    value_info: ValueInfo[];
  };
}

/** Grid cells (anchor points) of a YOLOv8 head at a square input of `size`. */
export function anchorCount(size: number): number {
  return STRIDES.reduce((sum, stride) => sum + (size / stride) ** 2, 0);
}

/** The head's constants at `size`: anchor points (all x, then all y, in cells) and each cell's stride. */
function anchorGrid(size: number): { points: Float32Array; strides: Float32Array } {
  const count = anchorCount(size);
  const points = new Float32Array(2 * count);
  const strides = new Float32Array(count);
  let cell = 0;
  for (const stride of STRIDES) {
    const cells = size / stride;
    for (let y = 0; y < cells; y++) {
      for (let x = 0; x < cells; x++, cell++) {
        points[cell] = x + 0.5;
        points[count + cell] = y + 0.5;
        strides[cell] = stride;
      }
    }
  }
  return { points, strides };
}

/** The bytes in an ArrayBuffer of their own (a decoded field is a view into the whole file, maybe unaligned). */
const copyBytes = (bytes: Uint8Array): ArrayBuffer => new Uint8Array(bytes).buffer;

const toNumber = (value: number | Long): number => (typeof value === 'number' ? value : Number(value.toString()));

function floatValues(tensor: Tensor): Float32Array | null {
  if (tensor.data_type !== FLOAT) return null;
  if (tensor.raw_data?.length) return new Float32Array(copyBytes(tensor.raw_data));
  return Float32Array.from(tensor.float_data ?? []);
}

function int64Values(tensor: Tensor): number[] | null {
  if (tensor.data_type !== INT64) return null;
  if (tensor.raw_data?.length) return Array.from(new BigInt64Array(copyBytes(tensor.raw_data)), Number);
  return (tensor.int64_data ?? []).map(toNumber);
}

const sameValues = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((value, i) => value === b[i]);

function setFloats(tensor: Tensor, dims: number[], values: Float32Array): void {
  tensor.dims = dims;
  tensor.raw_data = new Uint8Array(values.buffer);
  tensor.float_data = [];
}

function setInt64s(tensor: Tensor, values: number[]): void {
  tensor.raw_data = new Uint8Array(BigInt64Array.from(values, BigInt).buffer);
  tensor.int64_data = [];
}

/** The fixed dims of a graph input or output, or null when one is symbolic (a dynamic size). */
function fixedDims(info: ValueInfo): number[] | null {
  const dims = info.type?.tensor_type?.shape?.dim ?? [];
  return dims.every((d) => d.dim_value !== undefined) ? dims.map((d) => toNumber(d.dim_value!)) : null;
}

function setDims(info: ValueInfo, dims: number[]): void {
  info.type!.tensor_type!.shape!.dim = dims.map((dim_value) => ({ dim_value }));
}

/**
 * The model `modelBytes` (a YOLOv8 detection export with a fixed square input) re-targeted to a square
 * input of `size` (a multiple of 32). Throws naming the reason when the graph is not one it can re-target.
 */
export function resizeYoloInput(modelBytes: Uint8Array, size: number): Uint8Array {
  checkInputSize('the input size', size);
  const model = onnx.ModelProto.decode(modelBytes) as unknown as Model;
  const { graph } = model;
  const [input] = graph.input;
  const [output] = graph.output;
  const inputDims = input && graph.input.length === 1 ? fixedDims(input) : null;
  if (!input || !inputDims || inputDims.length !== 4 || inputDims[2] !== inputDims[3]) {
    throw new Error('not a YOLOv8 export with one fixed square input [1, 3, S, S]');
  }
  const from = inputDims[2]!;
  const outputDims = output ? fixedDims(output) : null;
  if (!output || !outputDims || outputDims.length !== 3 || outputDims[2] !== anchorCount(from)) {
    throw new Error(`not a YOLOv8 detection head: expected an output [1, 4 + classes, ${anchorCount(from)}] for a ${from}x${from} input`);
  }

  const before = anchorGrid(from);
  const after = anchorGrid(size);
  const cellsBefore = anchorCount(from);
  const cellsAfter = anchorCount(size);
  const constants = [...graph.initializer, ...graph.node.filter((n) => n.op_type === 'Constant').flatMap((n) => n.attribute.flatMap((a) => (a.t ? [a.t] : [])))];
  const rewritten = { points: 0, strides: 0 };
  for (const tensor of constants) {
    const floats = floatValues(tensor);
    const shape = tensor.dims.length === 1 ? int64Values(tensor) : null;
    if (floats && sameValues(floats, before.points)) {
      setFloats(tensor, [1, 2, cellsAfter], after.points);
      rewritten.points++;
    } else if (floats && sameValues(floats, before.strides)) {
      setFloats(tensor, [1, cellsAfter], after.strides);
      rewritten.strides++;
    } else if (shape?.at(-1) === cellsBefore) {
      setInt64s(tensor, [...shape.slice(0, -1), cellsAfter]);
    } else if (tensor.dims.some((d) => toNumber(d) === cellsBefore)) {
      throw new Error(`constant '${tensor.name ?? '?'}' has ${cellsBefore} entries but is neither the anchor points nor the strides: cannot re-target it`);
    }
  }
  if (rewritten.points === 0 || rewritten.strides === 0) {
    throw new Error(`no YOLOv8 anchor point and stride constants for ${from}x${from} in the graph (an export with an end-to-end or other head?)`);
  }

  setDims(input, [inputDims[0]!, inputDims[1]!, size, size]);
  setDims(output, [outputDims[0]!, outputDims[1]!, cellsAfter]);
  graph.value_info = [];
  const imgsz = model.metadata_props.find((entry) => entry.key === 'imgsz');
  if (imgsz) imgsz.value = `[${size}, ${size}]`;
  return onnx.ModelProto.encode(model as unknown as protobuf.Message).finish();
}
