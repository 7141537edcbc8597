/**
 * What a YOLOv8/YOLO11 detection ONNX file must look like, checked once at load: its class names (from
 * metadata, a labels file or COCO-80), its input (NCHW float32, fixed or dynamic size) and its output
 * ([1, 4+nc, N] or transposed). Each check throws an Error naming the expected and the actual thing; the
 * loader turns them into ModelLoadErrors naming the file.
 */
import { access } from 'node:fs/promises';
import type { InferenceSession } from './onnxruntime.js';
import { COCO80, parseUltralyticsNames, readLabelsFile } from './labels.js';
import { expectedOutputShape, resolveOutputLayout, type OutputLayout } from './yolo-decode.js';

/** Input size used when the model's height/width are dynamic and its metadata has no `imgsz`. */
export const DEFAULT_INPUT_SIZE = 640;

export interface ClassNames {
  names: readonly string[];
  /** Where they came from, for error messages: "names metadata", "labels file x", "COCO-80 default". */
  source: string;
}

export interface YoloModelSpec {
  inputName: string;
  outputName: string;
  inputWidth: number;
  inputHeight: number;
  layout: OutputLayout;
}

/** The labels file looked for beside a model: `yolo.onnx` -> `yolo.labels.txt`. */
export function sidecarLabelsPath(modelPath: string): string {
  return modelPath.replace(/\.onnx$/i, '') + '.labels.txt';
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * Class names in order of precedence: an explicit labels file, the model's `names` metadata (Ultralytics
 * writes it), a labels file beside the model, COCO-80.
 */
export async function resolveClassNames(modelPath: string, metadata: Record<string, string>, labelsPath?: string): Promise<ClassNames> {
  if (labelsPath !== undefined) return { names: await readLabelsFile(labelsPath), source: `labels file ${labelsPath}` };
  const fromMetadata = metadata['names'];
  if (fromMetadata !== undefined) return { names: parseUltralyticsNames(fromMetadata), source: 'names metadata' };
  const sidecar = sidecarLabelsPath(modelPath);
  if (await exists(sidecar)) return { names: await readLabelsFile(sidecar), source: `labels file ${sidecar}` };
  return { names: COCO80, source: 'COCO-80 default' };
}

/** Ultralytics writes `task` (detect, segment, pose, obb, classify): only detection heads decode here. */
export function checkTask(metadata: Record<string, string>): void {
  const task = metadata['task'];
  if (task !== undefined && task !== 'detect') throw new Error(`expected a detection model (task 'detect'), got task '${task}'`);
}

/** Ultralytics' `imgsz` metadata, e.g. "[640, 640]" (height, width), when it is well formed. */
function metadataInputSize(metadata: Record<string, string>): { height: number; width: number } | undefined {
  const match = /^\[\s*(\d+)\s*,\s*(\d+)\s*\]$/.exec(metadata['imgsz']?.trim() ?? '');
  if (!match) return undefined;
  return { height: Number(match[1]), width: Number(match[2]) };
}

function formatDims(dims: readonly (number | string)[]): string {
  return `[${dims.join(', ')}]`;
}

/** YOLOv8's largest stride (P5): a square input must be a whole number of its cells. */
export const MAX_STRIDE = 32;

/** Throws a RangeError naming `name` unless `size` is a positive multiple of MAX_STRIDE. */
export function checkInputSize(name: string, size: number): void {
  if (!(Number.isInteger(size) && size >= MAX_STRIDE && size % MAX_STRIDE === 0)) {
    throw new RangeError(`${name} must be a positive multiple of ${MAX_STRIDE}, got ${size} (the model's largest stride)`);
  }
}

/**
 * Checks the session's input and output against a detection model with `classes.names.length` classes.
 * `inputSize`: the square size to run a model with a dynamic input at (default: its `imgsz` metadata, else
 * 640); a fixed input of another size is refused (the model cannot run at it: re-target it with
 * models/yolo-resize.ts).
 */
export function inspectYoloSession(session: InferenceSession, metadata: Record<string, string>, classes: ClassNames, inputSize?: number): YoloModelSpec {
  const [input] = session.inputMetadata;
  const [output] = session.outputMetadata;
  if (!input || session.inputMetadata.length !== 1) throw new Error(`expected 1 input, got ${session.inputMetadata.length}`);
  if (!output) throw new Error('the model has no output');
  const expectedInput = 'float32 [1, 3, H, W]';
  if (!input.isTensor) throw new Error(`expected input ${expectedInput}, got a non-tensor input '${input.name}'`);
  const dims = input.shape;
  const [batch, channels, height, width] = dims;
  const fixed = (d: number | string | undefined, want: number) => typeof d !== 'number' || d === want;
  if (input.type !== 'float32' || dims.length !== 4 || !fixed(batch, 1) || !fixed(channels, 3)) {
    throw new Error(`expected input ${expectedInput}, got ${input.type} ${formatDims(dims)}`);
  }
  if (inputSize !== undefined && ((typeof height === 'number' && height !== inputSize) || (typeof width === 'number' && width !== inputSize))) {
    throw new Error(`the model's input is fixed at ${formatDims(dims)}: it cannot run at ${inputSize}x${inputSize}`);
  }
  const requested = inputSize === undefined ? null : { height: inputSize, width: inputSize };
  const fallback = requested ?? metadataInputSize(metadata) ?? { height: DEFAULT_INPUT_SIZE, width: DEFAULT_INPUT_SIZE };
  const inputHeight = typeof height === 'number' ? height : fallback.height;
  const inputWidth = typeof width === 'number' ? width : fallback.width;
  if (inputHeight <= 0 || inputWidth <= 0) throw new Error(`expected input ${expectedInput} with H, W > 0, got ${formatDims(dims)}`);

  const numClasses = classes.names.length;
  if (!output.isTensor || output.type !== 'float32') {
    throw new Error(`expected output float32 ${expectedOutputShape(numClasses)}, got ${output.isTensor ? output.type : 'a non-tensor'} output '${output.name}'`);
  }
  let layout: OutputLayout;
  try {
    layout = resolveOutputLayout(output.shape, numClasses);
  } catch (err) {
    throw new Error(`${(err as Error).message} (${numClasses} class names from the ${classes.source})`);
  }
  return { inputName: input.name, outputName: output.name, inputWidth, inputHeight, layout };
}
