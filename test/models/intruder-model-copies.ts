/**
 * Variants of the fixture YOLOv8 model built at test time with models/onnx-proto.ts (never committed):
 * other metadata, a transposed output, a dynamic input, and tiny models of the wrong shape.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx, OnnxAttributeType, OnnxDataType } from '../../models/onnx-proto.js';

interface Dim {
  dim_value?: number;
  dim_param?: string;
}
interface ValueInfo {
  name: string;
  type: { tensor_type: { elem_type: number; shape: { dim: Dim[] } } };
}
interface Model {
  metadata_props?: { key: string; value: string }[];
  graph: { node: object[]; input: ValueInfo[]; output: ValueInfo[] };
}

const toDims = (dims: readonly (number | string)[]): Dim[] => dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
const tensorInfo = (name: string, dims: readonly (number | string)[]): ValueInfo => ({
  name,
  type: { tensor_type: { elem_type: OnnxDataType.FLOAT, shape: { dim: toDims(dims) } } },
});

/** Ultralytics' format for the `names` metadata: a Python dict repr. */
export function ultralyticsNames(names: readonly string[]): string {
  return `{${names.map((name, i) => `${i}: '${name}'`).join(', ')}}`;
}

export class ModelCopies {
  private constructor(
    readonly dir: string,
    private readonly source: Uint8Array,
  ) {}

  static async of(sourcePath: string): Promise<ModelCopies> {
    return new ModelCopies(await mkdtemp(join(tmpdir(), 'edge-agent-models-')), await readFile(sourcePath));
  }

  async cleanup(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  /** The source model with metadata entries set (replacing same-named ones) and others removed. */
  withMetadata(fileName: string, changes: { set?: Record<string, string>; remove?: string[] }): Promise<string> {
    return this.write(fileName, (model) => {
      const drop = new Set([...(changes.remove ?? []), ...Object.keys(changes.set ?? {})]);
      model.metadata_props = [
        ...(model.metadata_props ?? []).filter((entry) => !drop.has(entry.key)),
        ...Object.entries(changes.set ?? {}).map(([key, value]) => ({ key, value })),
      ];
    });
  }

  /** The source model with a Transpose appended: output [1, 8400, 84] instead of [1, 84, 8400]. */
  withTransposedOutput(fileName: string): Promise<string> {
    return this.write(fileName, (model) => {
      const [output] = model.graph.output;
      if (!output) throw new Error('model has no output');
      const [batch, channels, anchors] = output.type.tensor_type.shape.dim;
      if (!batch || !channels || !anchors) throw new Error('expected a 3-D output');
      model.graph.node.push({
        name: 'test_transpose_output',
        op_type: 'Transpose',
        input: [output.name],
        output: ['output_transposed'],
        attribute: [{ name: 'perm', type: OnnxAttributeType.INTS, ints: [0, 2, 1] }],
      });
      model.graph.output = [{ name: 'output_transposed', type: { tensor_type: { elem_type: OnnxDataType.FLOAT, shape: { dim: [batch, anchors, channels] } } } }];
    });
  }

  /** The source model with its input height/width (and the output's anchor axis) declared dynamic. */
  withDynamicInput(fileName: string): Promise<string> {
    return this.write(fileName, (model) => {
      const [input] = model.graph.input;
      const [output] = model.graph.output;
      if (!input || !output) throw new Error('model has no input or output');
      input.type.tensor_type.shape.dim = toDims([1, 3, 'height', 'width']);
      output.type.tensor_type.shape.dim = toDims([1, 84, 'anchors']);
    });
  }

  /** A one-node model (Identity) whose input and output have `dims`: loads fine, has the wrong shape. */
  async identityModel(fileName: string, dims: readonly (number | string)[]): Promise<string> {
    const model = {
      ir_version: 8,
      producer_name: 'edge-agent-tests',
      opset_import: [{ domain: '', version: 17 }],
      graph: {
        name: 'identity',
        node: [{ name: 'identity', op_type: 'Identity', input: ['images'], output: ['output0'] }],
        input: [tensorInfo('images', dims)],
        output: [tensorInfo('output0', dims)],
      },
    };
    return this.save(fileName, onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish());
  }

  /** Any bytes under the copies' folder (not-ONNX files, labels files...). */
  save(fileName: string, bytes: Uint8Array | string): Promise<string> {
    const path = join(this.dir, fileName);
    return writeFile(path, bytes).then(() => path);
  }

  private write(fileName: string, change: (model: Model) => void): Promise<string> {
    const message = onnx.ModelProto.decode(this.source);
    const model = onnx.ModelProto.toObject(message, { longs: Number }) as Model;
    change(model);
    return this.save(fileName, onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish());
  }
}
