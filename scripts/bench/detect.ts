/**
 * `npm run bench:detect [-- --threads N --rounds N --model FILE --input N --image FILE --frame WxH]`
 *
 * `--input 320`: runs the model at a square input of 320 (re-targeted to it when its input is fixed,
 * models/yolo-resize.ts); default: the model's own input size.
 *
 * Measures, in one process with one thread count:
 * - raw: `session.run` alone on a prepared input tensor (a second session with the detector's options);
 * - whole path: `detector.detect(bytes)` from encoded image bytes to the result;
 * - whole path from a raw yuv420 camera frame: the image fitted into a `--frame` (default 1280x720)
 *   full-range yuv420 frame by ffmpeg, as the ffmpeg driver makes them, then `detector.detect(frame)`;
 *   all three interleaved round by round (the machine drifts between speed regimes), with the
 *   per-round ratios;
 * - back-to-back throughput: frames handed over as soon as the detector can take them (two in flight,
 *   so the next frame is decoded while the current one is inferred), against 1 / raw run;
 * - the process RSS once the detector is loaded and warm.
 * Prints a readable report and, last, one JSON line with every figure.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from '../../models/onnxruntime.js';
import { yuv420Layout, type Yuv420Image } from '../../agent/lib/frame-image.js';
import { packageRoot } from '../../agent/lib/paths.js';
import { letterboxPixels, writeInputTensor, DEFAULT_MAX_PIXELS } from '../../models/image-input.js';
import { detectorSessionOptions, loadIntruderDetector, type LoadedIntruderDetector } from '../../models/intruder.js';
import { checkInputSize } from '../../models/yolo-model.js';
import type { DetectionTimings } from '../../models/types.js';
import { modelFileAtSize } from './model-at-size.js';

const WARMUP = 5;
const THROUGHPUT_FRAMES = 30;
const THROUGHPUT_REPEATS = 3;

const fixtures = resolve(process.env.EDGE_AGENT_FIXTURES ?? join(packageRoot(), '..', 'shared', 'fixtures'));
const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: String(availableParallelism()) },
    rounds: { type: 'string', default: '40' },
    model: { type: 'string', default: join(fixtures, 'models', 'yolov8n-int8.onnx') },
    image: { type: 'string', default: join(fixtures, 'images', 'bus.jpg') },
    frame: { type: 'string', default: '1280x720' },
    input: { type: 'string' },
  },
});
const frameSize = /^(\d+)x(\d+)$/.exec(values.frame);
if (!frameSize || Number(frameSize[1]) % 2 !== 0 || Number(frameSize[2]) % 2 !== 0) throw new Error(`--frame: expected WxH with even numbers, got ${values.frame}`);
const threads = Number(values.threads);
const rounds = Number(values.rounds);
if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads: expected a positive integer, got ${values.threads}`);
if (!Number.isInteger(rounds) || rounds < 30) throw new Error(`--rounds: expected an integer >= 30, got ${values.rounds}`);
const inputSize = values.input === undefined ? undefined : Number(values.input);
if (inputSize !== undefined) checkInputSize('--input', inputSize);

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
const median = (values: number[]) => quantile(values, 0.5);
const fixed = (value: number, digits = 2) => Number(value.toFixed(digits));
const mb = (bytes: number) => fixed(bytes / 2 ** 20, 1);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Frames per second when `frames` detections are handed over with `inFlight` of them outstanding. */
async function throughput(detector: LoadedIntruderDetector, bytes: Uint8Array, frames: number, inFlight: number): Promise<number> {
  let started = 0;
  const worker = async () => {
    while (started < frames) {
      started += 1;
      await detector.detect(bytes);
    }
  };
  const ms = await timed(() => Promise.all(Array.from({ length: inFlight }, worker)));
  return (frames * 1000) / ms;
}

/** The image fitted into a full-range yuv420 frame of `width` x `height`, as the ffmpeg camera driver makes them. */
async function yuv420Frame(image: string, width: number, height: number): Promise<Yuv420Image> {
  const filter = `scale=${width}:${height}:force_original_aspect_ratio=decrease:force_divisible_by=2:out_range=full,pad=${width}:${height}:-1:-1`;
  const args = ['-hide_banner', '-loglevel', 'error', '-i', image, '-frames:v', '1', '-vf', filter, '-pix_fmt', 'yuv420p', '-f', 'rawvideo', 'pipe:1'];
  const { stdout } = await promisify(execFile)('ffmpeg', args, { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 });
  if (stdout.length !== yuv420Layout(width, height).frameBytes) throw new Error(`ffmpeg made ${stdout.length} bytes for a ${width}x${height} yuv420 frame`);
  return { format: 'yuv420', width, height, data: new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.byteLength) };
}

const summary = (values: number[], digits = 2) => ({ median: fixed(median(values), digits), p10: fixed(quantile(values, 0.1), digits), p90: fixed(quantile(values, 0.9), digits) });

async function main(): Promise<void> {
  const bytes = await readFile(values.image);
  const frame = await yuv420Frame(values.image, Number(frameSize![1]), Number(frameSize![2]));
  const scratch = await mkdtemp(join(tmpdir(), 'edge-agent-bench-detect-'));
  const model = inputSize === undefined ? values.model : await modelFileAtSize(values.model, inputSize, scratch);
  const detector = await loadIntruderDetector(model, { threads, inputSize });
  for (let i = 0; i < WARMUP; i += 1) await detector.detect(bytes);
  for (let i = 0; i < WARMUP; i += 1) await detector.detect(frame);
  const rssLoaded = process.memoryUsage().rss;

  // The raw run: the same model and session options, fed a tensor prepared once from the same image.
  const session = await ort.InferenceSession.create(model, detectorSessionOptions(threads));
  const { width, height } = detector.inputSize;
  const input = new Float32Array(3 * width * height);
  const pixels = await letterboxPixels(bytes, detector.inputSize, DEFAULT_MAX_PIXELS);
  writeInputTensor(pixels, input);
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', input, [1, 3, height, width]) };
  for (let i = 0; i < WARMUP; i += 1) await session.run(feeds);

  const raw: number[] = [];
  const whole: number[] = [];
  const ratios: number[] = [];
  const parts: DetectionTimings[] = [];
  const wholeYuv: number[] = [];
  const ratiosYuv: number[] = [];
  const partsYuv: DetectionTimings[] = [];
  for (let round = 0; round < rounds; round += 1) {
    // Rotate which goes first so that none always runs right after another's cache effects.
    const ms = { raw: 0, jpeg: 0, yuv: 0 };
    const measures = [
      async () => {
        ms.raw = await timed(() => session.run(feeds));
      },
      async () => {
        ms.jpeg = await timed(async () => parts.push((await detector.detect(bytes)).timings_ms));
      },
      async () => {
        ms.yuv = await timed(async () => partsYuv.push((await detector.detect(frame)).timings_ms));
      },
    ];
    for (let i = 0; i < measures.length; i += 1) await measures[(round + i) % measures.length]!();
    raw.push(ms.raw);
    whole.push(ms.jpeg);
    ratios.push(ms.jpeg / ms.raw);
    wholeYuv.push(ms.yuv);
    ratiosYuv.push(ms.yuv / ms.raw);
  }

  // Back to back: each pipelined measurement is paired with a raw measurement of as many runs.
  const fpsRatios: number[] = [];
  const fpsPipelined: number[] = [];
  const fpsRaw: number[] = [];
  const fpsSequential: number[] = [];
  for (let repeat = 0; repeat < THROUGHPUT_REPEATS; repeat += 1) {
    const pipelined = await throughput(detector, bytes, THROUGHPUT_FRAMES, 2);
    const rawMs = await timed(async () => {
      for (let i = 0; i < THROUGHPUT_FRAMES; i += 1) await session.run(feeds);
    });
    const rawFps = (THROUGHPUT_FRAMES * 1000) / rawMs;
    fpsSequential.push(await throughput(detector, bytes, THROUGHPUT_FRAMES, 1));
    fpsPipelined.push(pipelined);
    fpsRaw.push(rawFps);
    fpsRatios.push(pipelined / rawFps);
  }
  const rssEnd = process.memoryUsage().rss;
  await session.release();
  await detector.close();
  await rm(scratch, { recursive: true, force: true });

  const partsOf = (timings: DetectionTimings[]) => {
    const part = (key: keyof DetectionTimings) => fixed(median(timings.map((t) => t[key])));
    return { decode: part('decode'), inference: part('inference'), postprocess: part('postprocess'), total: part('total') };
  };
  const report = {
    model: values.model,
    input: `${width}x${height}`,
    image: values.image,
    threads,
    rounds,
    raw_run_ms: summary(raw),
    whole_path_ms: summary(whole),
    ratio_whole_over_raw: summary(ratios, 3),
    whole_path_parts_ms: partsOf(parts),
    yuv420_frame: `${frame.width}x${frame.height}`,
    yuv420_path_ms: summary(wholeYuv),
    ratio_yuv420_over_raw: summary(ratiosYuv, 3),
    yuv420_path_parts_ms: partsOf(partsYuv),
    back_to_back: {
      fps_pipelined: fixed(median(fpsPipelined)),
      fps_sequential: fixed(median(fpsSequential)),
      fps_raw_runs: fixed(median(fpsRaw)),
      ratio_pipelined_over_raw: fixed(median(fpsRatios), 3),
    },
    rss_mb: { detector_loaded: mb(rssLoaded), end_with_raw_session: mb(rssEnd) },
  };

  const lines = [
    `model ${report.model} at ${report.input}, image ${report.image}, ${threads} threads, ${rounds} interleaved rounds after ${WARMUP} warm-up runs`,
    `raw session.run        median ${report.raw_run_ms.median} ms (p10 ${report.raw_run_ms.p10}, p90 ${report.raw_run_ms.p90})`,
    `whole detect path      median ${report.whole_path_ms.median} ms (p10 ${report.whole_path_ms.p10}, p90 ${report.whole_path_ms.p90})`,
    `  of which             decode ${report.whole_path_parts_ms.decode}, inference ${report.whole_path_parts_ms.inference}, postprocess ${report.whole_path_parts_ms.postprocess} ms`,
    `per-round ratio        median ${report.ratio_whole_over_raw.median}x (p10 ${report.ratio_whole_over_raw.p10}, p90 ${report.ratio_whole_over_raw.p90}; target <= 1.10)`,
    `from a yuv420 frame    ${report.yuv420_frame}: median ${report.yuv420_path_ms.median} ms (p10 ${report.yuv420_path_ms.p10}, p90 ${report.yuv420_path_ms.p90})`,
    `  of which             convert+letterbox ${report.yuv420_path_parts_ms.decode}, inference ${report.yuv420_path_parts_ms.inference}, postprocess ${report.yuv420_path_parts_ms.postprocess} ms`,
    `per-round ratio        median ${report.ratio_yuv420_over_raw.median}x (p10 ${report.ratio_yuv420_over_raw.p10}, p90 ${report.ratio_yuv420_over_raw.p90}; target <= 1.03)`,
    `back to back           ${report.back_to_back.fps_pipelined} fps pipelined, ${report.back_to_back.fps_sequential} fps one at a time, ` +
      `${report.back_to_back.fps_raw_runs} raw runs/s: ${report.back_to_back.ratio_pipelined_over_raw}x of 1/raw (target >= 0.9)`,
    `RSS                    ${report.rss_mb.detector_loaded} MB with the detector loaded and warm`,
  ];
  process.stdout.write(lines.join('\n') + '\n' + JSON.stringify(report) + '\n');
}

await main();
