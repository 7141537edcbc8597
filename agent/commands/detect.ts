/**
 * `edge-agent detect [options] IMAGE...`: runs the intruder detector on image files and prints one JSON
 * line per image. A bad image gives an `error` line and exit status 1 (the others still run); a model
 * that cannot be loaded is one line on stderr and exit status 66. The detector's defaults are the
 * configuration schema's (`intruder.*`, `data_dir`), as the daemon's.
 */
import { defineCommand, numberOption, type CommandIO } from './command.js';
import { configNumberOption } from './config-options.js';
import { defaultConfig } from '../config/load.js';
import type { AgentConfig } from '../config/types.js';
import { CliError, ExitCode, UsageError } from '../lib/exit-codes.js';
import { InputFileError, readRegularFile } from '../lib/input-file.js';
import { checkInputFile } from './input-files.js';
import { InvalidInputError } from '../../models/errors.js';
import { fileErrorReason } from '../../models/file-errors.js';
import { loadIntruderDetector, type IntruderDetectorOptions, type LoadedIntruderDetector } from '../../models/intruder.js';
import { ModelRegistry } from '../ota/registry.js';
import type { DetectionResult, DetectionTimings } from '../../models/types.js';

const usage = ({ intruder, data_dir }: AgentConfig) => `usage: edge-agent detect [--model FILE] [--threshold T] [--iou T] [--classes a,b,...] [--all-classes]
                         [--labels FILE] [--threads N] [--repeat N] [--data-dir DIR] [--verbose] IMAGE...

Prints one JSON line per image: {"image", "intruder", "objects", "total_objects", "timings_ms"}, or
{"image", "error"} for an image that cannot be read or decoded (exit status 1).

  --model FILE      YOLOv8/YOLO11 detection model (ONNX); default: the active intruder model
                    installed under --data-dir (see 'edge-agent models')
  --threshold T     minimum confidence, 0 < T <= 1 (default ${intruder.threshold})
  --iou T           NMS IoU threshold, 0 < T <= 1 (default ${intruder.iou})
  --classes LIST    comma-separated intruder classes (default ${intruder.classes.join(',')})
  --all-classes     every class counts as an intruder
  --labels FILE     class names, one per line (default: the model's names metadata,
                    else FILE.labels.txt beside the model, else COCO-80)
  --threads N       onnxruntime threads (default: ${intruder.threads ?? 'all cores'})
  --repeat N        process each image N times (at most ${MAX_REPEAT}); timings are the medians
  --data-dir DIR    the agent's data folder holding installed models (default ${data_dir})
  --verbose         print the stack of an unexpected error`;

const OPTIONS = {
  model: { type: 'string' },
  threshold: { type: 'string' },
  iou: { type: 'string' },
  classes: { type: 'string' },
  'all-classes': { type: 'boolean' },
  labels: { type: 'string' },
  threads: { type: 'string' },
  repeat: { type: 'string' },
  'data-dir': { type: 'string' },
} as const;

type ImageLine =
  | ({ image: string } & Pick<DetectionResult, 'intruder' | 'objects' | 'total_objects' | 'timings_ms'>)
  | { image: string; error: string };

/** Far above any photo (a 70-megapixel PNG of noise is about 200 MB... and refused by the decoder anyway). */
const MAX_IMAGE_FILE_BYTES = 64 * 1024 * 1024;
const MAX_REPEAT = 10_000;
const isRepeat = (n: number) => Number.isInteger(n) && n >= 1 && n <= MAX_REPEAT;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const value = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return Number(value.toFixed(2));
}

function medianTimings(all: DetectionTimings[]): DetectionTimings {
  const of = (key: keyof DetectionTimings) => median(all.map((t) => t[key]));
  return { decode: of('decode'), inference: of('inference'), postprocess: of('postprocess'), total: of('total') };
}

async function defaultModelPath(dataDir: string): Promise<string> {
  const registry = new ModelRegistry({ dataDir, keepVersions: 1 });
  const path = await registry.activeModelPath('intruder');
  if (path === null) {
    throw new CliError(
      `no --model given and no intruder model is active in ${registry.root} (pass --model FILE, or install one with 'edge-agent models install intruder ...')`,
      ExitCode.NO_INPUT,
    );
  }
  return path;
}

async function loadDetector(modelPath: string, options: IntruderDetectorOptions): Promise<LoadedIntruderDetector> {
  await checkInputFile('--model', modelPath);
  if (options.labelsPath !== undefined) await checkInputFile('--labels', options.labelsPath);
  try {
    return await loadIntruderDetector(modelPath, options);
  } catch (err) {
    // Loading checks the options against the model (the classes it knows): those came from the command line.
    if (err instanceof InvalidInputError || err instanceof RangeError) throw new UsageError(err.message);
    throw err;
  }
}

async function detectFile(detector: LoadedIntruderDetector, path: string, repeat: number, io: CommandIO, verbose: boolean): Promise<ImageLine> {
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(path, MAX_IMAGE_FILE_BYTES);
  } catch (err) {
    return { image: path, error: `cannot read the file: ${err instanceof InputFileError ? `it ${err.reason}` : fileErrorReason(err)}` };
  }
  try {
    const timings: DetectionTimings[] = [];
    let result: DetectionResult | undefined;
    for (let i = 0; i < repeat; i += 1) {
      result = await detector.detect(bytes);
      timings.push(result.timings_ms);
    }
    const { intruder, objects, total_objects } = result!;
    return { image: path, intruder, objects, total_objects, timings_ms: medianTimings(timings) };
  } catch (err) {
    // A bad image is expected input; anything else is a bug worth a stack trace when asked for.
    if (verbose && !(err instanceof InvalidInputError) && err instanceof Error) io.stderr.write(`${err.stack}\n`);
    return { image: path, error: err instanceof Error ? err.message : String(err) };
  }
}

export const command = defineCommand({
  usage,
  options: OPTIONS,
  args: ['IMAGE...'],
  async run({ values, args: images, io, verbose }) {
    const defaults = defaultConfig();
    const classes = values.classes?.split(',').map((name) => name.trim()).filter((name) => name !== '');
    const options: IntruderDetectorOptions = {
      threshold: configNumberOption('threshold', values.threshold, 'intruder.threshold') ?? defaults.intruder.threshold,
      iou: configNumberOption('iou', values.iou, 'intruder.iou') ?? defaults.intruder.iou,
      threads: configNumberOption('threads', values.threads, 'intruder.threads') ?? defaults.intruder.threads ?? undefined,
      classes: classes ?? defaults.intruder.classes,
      allClasses: values['all-classes'] ?? false,
      labelsPath: values.labels,
    };
    const repeat = numberOption('repeat', values.repeat, isRepeat) ?? 1;
    const modelPath = values.model ?? (await defaultModelPath(values['data-dir'] ?? defaults.data_dir));

    const detector = await loadDetector(modelPath, options);
    let failed = 0;
    try {
      for (const path of images) {
        const line = await detectFile(detector, path, repeat, io, verbose);
        if ('error' in line) failed += 1;
        io.stdout.write(JSON.stringify(line) + '\n');
      }
    } finally {
      await detector.close();
    }
    return failed > 0 ? ExitCode.FAILURE : ExitCode.OK;
  },
});
