/**
 * The intruder detector: an Ultralytics YOLOv8/YOLO11 detection model run with onnxruntime-node.
 * image bytes -> letterbox (sharp) -> planar float tensor -> session.run -> best class per anchor ->
 * threshold -> class-aware NMS -> boxes in image pixels -> intruder-class filter.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from './onnxruntime.js';
import { InvalidInputError, ModelLoadError } from './errors.js';
import { fileErrorReason } from './file-errors.js';
import { letterboxPixels, writeInputTensor, DEFAULT_DECODE_BUDGET_BYTES, DEFAULT_MAX_PIXELS, type LetterboxedPixels } from './image-input.js';
import { boxToImage } from './letterbox.js';
import { nonMaxSuppression } from './nms.js';
import { readOnnxMetadata } from './onnx-proto.js';
import { MemoryBudget } from '../agent/lib/memory-budget.js';
import { SerialQueue } from '../agent/lib/serial-queue.js';
import { Pool } from './pool.js';
import type { DetectedObject, DetectionResult, IntruderDetector, ModelInfo, DetectorImage } from './types.js';
import { decodeCandidates } from './yolo-decode.js';
import { checkInputSize, checkTask, inspectYoloSession, resolveClassNames, type YoloModelSpec } from './yolo-model.js';

/** The old system's intruder classes and threshold, kept as defaults. */
export const DEFAULT_INTRUDER_CLASSES: readonly string[] = Object.freeze(['person', 'dog', 'cat', 'bear']);
export const DEFAULT_THRESHOLD = 0.5;
export const DEFAULT_IOU = 0.7;

export interface IntruderDetectorOptions {
  /** Minimum confidence of a detection, 0 < threshold <= 1 (default 0.5). */
  threshold?: number;
  /** NMS IoU above which the lower-scored box of a class is dropped, 0 < iou <= 1 (default 0.7). */
  iou?: number;
  /**
   * Square input size to run a model with a dynamic input at, e.g. 320 (default: its `imgsz` metadata,
   * else 640); a model with a fixed input of another size is refused with ModelLoadError.
   */
  inputSize?: number;
  /** Classes that count as intruders (default person, dog, cat, bear); each must be one of the model's. */
  classes?: readonly string[];
  /** Every class counts as an intruder (`classes` is ignored). */
  allClasses?: boolean;
  /** onnxruntime intra-op threads (default: all cores). */
  threads?: number;
  /** Images with more pixels are refused before decoding (default 70 million). */
  maxPixels?: number;
  /** Memory the image decodes of this detector may take together, and one at most (default 64 MB; models/image-input.ts). */
  decodeBudgetBytes?: number;
  /** Class names file (one per line, or a JSON array); overrides the model's names metadata. */
  labelsPath?: string;
  /** Reported in `info.version` (default: the model's `version` metadata, else 'unversioned'). */
  version?: string;
  /**
   * Reported in `info.name` (default: the model's `name` metadata, else the file name without .onnx;
   * give it for registry files, which are all called model.onnx).
   */
  name?: string;
}

export interface LoadedIntruderDetector extends IntruderDetector {
  /** The model's class names, index = output class. */
  readonly classNames: readonly string[];
  /** The size images are letterboxed to (the model's input, or its imgsz / 640 when dynamic). */
  readonly inputSize: { readonly width: number; readonly height: number };
}

interface DetectorSettings {
  threshold: number;
  iou: number;
  maxPixels: number;
  /** Shared by every detection of this detector (pipeline and HTTP alike). */
  decodeBudget: MemoryBudget;
  /** 1 for the class indices that count as intruders. */
  intruderMask: Uint8Array;
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

/**
 * Input tensors per detector: one for the frame the session is running on and one for the next frame,
 * filled meanwhile. More would only let further frames wait holding memory.
 */
const INPUT_BUFFERS = 2;

class YoloIntruderDetector implements LoadedIntruderDetector {
  private readonly inputs: Pool<ort.TypedTensor<'float32'>>;
  private readonly runner = new SerialQueue();
  private readonly pending = new Set<Promise<DetectionResult>>();
  private closed = false;

  constructor(
    readonly info: ModelInfo,
    readonly classNames: readonly string[],
    private readonly session: ort.InferenceSession,
    private readonly spec: YoloModelSpec,
    private readonly settings: DetectorSettings,
  ) {
    const dims = [1, 3, spec.inputHeight, spec.inputWidth];
    this.inputs = new Pool(Array.from({ length: INPUT_BUFFERS }, () => new ort.Tensor('float32', new Float32Array(3 * spec.inputHeight * spec.inputWidth), dims)));
  }

  get inputSize() {
    return { width: this.spec.inputWidth, height: this.spec.inputHeight };
  }

  detect(image: DetectorImage): Promise<DetectionResult> {
    if (this.closed) return Promise.reject(new Error(`detector for ${this.info.path} is closed`));
    const detection = this.detectNow(image);
    this.pending.add(detection);
    const forget = () => this.pending.delete(detection);
    detection.then(forget, forget);
    return detection;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Detections already started finish on this session; new ones are refused.
    await Promise.allSettled([...this.pending]);
    await this.session.release();
  }

  private async detectNow(image: DetectorImage): Promise<DetectionResult> {
    const start = performance.now();
    const pixels = await letterboxPixels(image, this.inputSize, this.settings.maxPixels, this.settings.decodeBudget);
    const letterboxMs = performance.now() - start;
    const { output, tensorMs, inferenceMs } = await this.infer(pixels);
    const postStart = performance.now();
    const { objects, total } = this.postprocess(output, pixels);
    const end = performance.now();
    return {
      intruder: objects.length > 0,
      objects,
      total_objects: total,
      timings_ms: {
        decode: round(letterboxMs + tensorMs, 2),
        inference: round(inferenceMs, 2),
        postprocess: round(end - postStart, 2),
        total: round(end - start, 2),
      },
      image: { width: pixels.imageWidth, height: pixels.imageHeight },
    };
  }

  /**
   * Fills a free input tensor and runs the session on it once the runs queued before have ended. The
   * decoding before and the filling here overlap with the run of the frame before.
   */
  private async infer(pixels: LetterboxedPixels): Promise<{ output: ort.Tensor; tensorMs: number; inferenceMs: number }> {
    const input = await this.inputs.acquire();
    try {
      const tensorStart = performance.now();
      writeInputTensor(pixels, input.data);
      const tensorMs = performance.now() - tensorStart;
      return await this.runner.run(async () => {
        const runStart = performance.now();
        const outputs = await this.session.run({ [this.spec.inputName]: input });
        const output = outputs[this.spec.outputName];
        if (!output || output.type !== 'float32') throw new Error(`model output '${this.spec.outputName}' is not a float32 tensor`);
        return { output, tensorMs, inferenceMs: performance.now() - runStart };
      });
    } finally {
      this.inputs.release(input);
    }
  }

  /** Output tensor -> detections of every class after NMS, and the intruders among them in image pixels. */
  private postprocess(output: ort.Tensor, pixels: LetterboxedPixels): { objects: DetectedObject[]; total: number } {
    const { threshold, iou, intruderMask } = this.settings;
    const candidates = decodeCandidates(output.data as Float32Array, output.dims, this.spec.layout, threshold);
    const kept = nonMaxSuppression(candidates.boxes, candidates.scores, candidates.classes, iou);
    const objects: DetectedObject[] = [];
    for (const i of kept) {
      const classIndex = candidates.classes[i]!;
      if (!intruderMask[classIndex]) continue;
      const [x1, y1, x2, y2] = candidates.boxes.subarray(4 * i, 4 * i + 4);
      objects.push({
        class: this.classNames[classIndex]!,
        confidence: round(candidates.scores[i]!, 4),
        bbox: boxToImage(x1!, y1!, x2!, y2!, pixels.geometry, pixels.imageWidth, pixels.imageHeight),
      });
    }
    return { objects, total: kept.length };
  }
}

function checkFraction(name: string, value: number): number {
  if (!(value > 0 && value <= 1)) throw new RangeError(`${name} must be > 0 and <= 1, got ${value}`);
  return value;
}

function intruderMask(classNames: readonly string[], options: IntruderDetectorOptions): Uint8Array {
  const mask = new Uint8Array(classNames.length);
  if (options.allClasses) return mask.fill(1);
  const wanted = options.classes ?? DEFAULT_INTRUDER_CLASSES;
  if (wanted.length === 0) throw new InvalidInputError('no intruder classes given (list at least one, or use all classes)');
  const missing = wanted.filter((name) => !classNames.includes(name));
  if (missing.length > 0) {
    const list = missing.map((name) => `'${name}'`).join(', ');
    throw new InvalidInputError(`intruder classes ${list} are not classes of this model; it has: ${classNames.join(', ')}`);
  }
  classNames.forEach((name, index) => {
    if (wanted.includes(name)) mask[index] = 1;
  });
  return mask;
}

/** The onnxruntime options the detector's session uses (the benchmark's raw session uses the same). */
export function detectorSessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    // One operator at a time, each spread over `threads`: YOLO graphs are a chain with little to overlap.
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // Idle pool threads sleep instead of spinning: on a 2-4 core board the spinning would take the CPU
    // from the next frame's decoding and from the rest of the agent (measured: much slower runs when the
    // cores are shared).
    extra: { session: { intra_op: { allow_spinning: '0' } } },
    // The memory pattern pre-plans one block for every intermediate tensor of a run; without it the
    // (kept) arena reuses freed blocks across the run. Measured on the fixture model: about 20 MB less
    // RSS, steady and peak, for about 3% slower runs (docs/detector.md, Performance).
    enableMemPattern: false,
    // Failures reach the caller as errors; onnxruntime's own log lines would only repeat them on stderr.
    logSeverityLevel: 4,
  };
}

async function readModelFile(modelPath: string): Promise<Buffer> {
  try {
    return await readFile(modelPath);
  } catch (err) {
    throw new ModelLoadError(modelPath, `cannot read the model file: ${fileErrorReason(err)}`);
  }
}

/**
 * Loads a YOLOv8/YOLO11 detection model exported to ONNX and returns a detector holding one inference
 * session, reused for every image. Throws ModelLoadError for a file that is missing or not a usable
 * detection model (the message names the file, the expected and the actual shape), InvalidInputError for
 * intruder classes the model lacks, RangeError for out-of-range options.
 */
export async function loadIntruderDetector(modelPath: string, options: IntruderDetectorOptions = {}): Promise<LoadedIntruderDetector> {
  const threshold = checkFraction('threshold', options.threshold ?? DEFAULT_THRESHOLD);
  const iou = checkFraction('iou', options.iou ?? DEFAULT_IOU);
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (options.inputSize !== undefined) checkInputSize('inputSize', options.inputSize);
  if (!Number.isInteger(maxPixels) || maxPixels < 1) throw new RangeError(`maxPixels must be a positive integer, got ${maxPixels}`);

  const bytes = await readModelFile(modelPath);
  const fail = (reason: string) => new ModelLoadError(modelPath, reason);
  let metadata: Record<string, string>;
  try {
    metadata = readOnnxMetadata(bytes);
  } catch (err) {
    throw fail(`not an ONNX model (${(err as Error).message})`);
  }
  try {
    checkTask(metadata);
  } catch (err) {
    throw fail((err as Error).message);
  }
  const classes = await resolveClassNames(modelPath, metadata, options.labelsPath).catch((err: Error) => {
    throw fail(`cannot get class names: ${err.message}`);
  });
  const mask = intruderMask(classes.names, options);

  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, detectorSessionOptions(threads));
  } catch (err) {
    throw fail(`not a loadable ONNX model (${(err as Error).message.split('\n')[0]})`);
  }
  let spec: YoloModelSpec;
  try {
    spec = inspectYoloSession(session, metadata, classes, options.inputSize);
  } catch (err) {
    await session.release();
    throw fail((err as Error).message);
  }
  const info: ModelInfo = {
    name: options.name ?? (metadata['name'] || basename(modelPath).replace(/\.onnx$/i, '')),
    version: options.version ?? (metadata['version'] || 'unversioned'),
    sha256: createHash('sha256').update(bytes).digest('hex'),
    path: modelPath,
  };
  const decodeBudget = new MemoryBudget(options.decodeBudgetBytes ?? DEFAULT_DECODE_BUDGET_BYTES);
  return new YoloIntruderDetector(info, classes.names, session, spec, { threshold, iou, maxPixels, decodeBudget, intruderMask: mask });
}
