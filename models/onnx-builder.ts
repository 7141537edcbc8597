/**
 * Builds small ONNX models from TypeScript with the protobufjs schema in onnx-proto.ts: tensors,
 * nodes, typed inputs/outputs, and the model with its metadata. Enough for graphs such as the
 * forecaster's Slice/Sub/MatMul/Add chain; encoding is deterministic (same objects, same bytes).
 */
import { onnx, OnnxDataType } from './onnx-proto.js';

export interface TensorInit {
  name: string;
  dims: number[];
  data_type: number;
  raw_data?: Uint8Array;
  int64_data?: number[];
}

export interface NodeInit {
  op_type: string;
  input: string[];
  output: string[];
  name: string;
}

export interface ValueInfoInit {
  name: string;
  type: { tensor_type: { elem_type: number; shape: { dim: ({ dim_value: number } | { dim_param: string })[] } } };
}

export interface GraphSpec {
  name: string;
  nodes: NodeInit[];
  initializers: TensorInit[];
  inputs: ValueInfoInit[];
  outputs: ValueInfoInit[];
}

export interface ModelSpec {
  graph: GraphSpec;
  /** Default-domain opset, e.g. 13. */
  opset: number;
  /** ONNX IR version, e.g. 8 (ONNX 1.10). */
  irVersion: number;
  producerName: string;
  producerVersion: string;
  docString?: string;
  /** Written as `metadata_props` in insertion order. */
  metadata: Record<string, string>;
}

/** A float32 tensor stored as little-endian raw bytes (the layout ONNX specifies for raw_data). */
export function floatTensor(name: string, dims: number[], values: ArrayLike<number>): TensorInit {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (values.length !== expected) throw new Error(`tensor ${name}: ${values.length} values for dims [${dims.join(', ')}]`);
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] as number, true);
  return { name, dims, data_type: OnnxDataType.FLOAT, raw_data: raw };
}

export function int64Tensor(name: string, dims: number[], values: number[]): TensorInit {
  return { name, dims, data_type: OnnxDataType.INT64, int64_data: values };
}

export function node(opType: string, inputs: string[], outputs: string[], name = outputs[0] ?? opType): NodeInit {
  return { op_type: opType, input: inputs, output: outputs, name };
}

/** A tensor input or output; string dimensions are symbolic (e.g. 'batch'). */
export function tensorValueInfo(name: string, elemType: number, shape: (number | string)[]): ValueInfoInit {
  const dim = shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
  return { name, type: { tensor_type: { elem_type: elemType, shape: { dim } } } };
}

export function encodeModel(spec: ModelSpec): Uint8Array {
  const message = onnx.ModelProto.fromObject({
    ir_version: spec.irVersion,
    producer_name: spec.producerName,
    producer_version: spec.producerVersion,
    doc_string: spec.docString ?? '',
    opset_import: [{ domain: '', version: spec.opset }],
    graph: {
      name: spec.graph.name,
      node: spec.graph.nodes,
      initializer: spec.graph.initializers,
      input: spec.graph.inputs,
      output: spec.graph.outputs,
    },
    metadata_props: Object.entries(spec.metadata).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(message).finish();
}
