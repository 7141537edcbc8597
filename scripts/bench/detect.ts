/**
 * `npm run bench:detect [-- --threads N --rounds N --model FILE --image FILE]`
 *
 * Measures, in one process with one thread count:
 * - raw: `session.run` alone on a prepared input tensor (a second session with the detector's options);
 * - whole path: `detector.detect(bytes)` from encoded image bytes to the result;
 *   interleaved round by round (the machine drifts between speed regimes), with the per-round ratio;
 * - back-to-back throughput: frames handed over as soon as the detector can take them (two in flight,
 *   so the next frame is decoded while the current one is inferred), against 1 / raw run;
 * - the process RSS once the detector is loaded and warm.
 * Prints a readable report and, last, one JSON line with every figure.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from '../../models/onnxruntime.js';
import { packageRoot } from '../../agent/lib/paths.js';
import { letterboxPixels, DEFAULT_MAX_PIXELS } from '../../models/image-input.js';
import { detectorSessionOptions, loadIntruderDetector, type LoadedIntruderDetector } from '../../models/intruder.js';
import { writePlanarTensor } from '../../models/letterbox.js';
import type { DetectionTimings } from '../../models/types.js';

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
  },
});
const threads = Number(values.threads);
const rounds = Number(values.rounds);
if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads: expected a positive integer, got ${values.threads}`);
if (!Number.isInteger(rounds) || rounds < 30) throw new Error(`--rounds: expected an integer >= 30, got ${values.rounds}`);

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

async function main(): Promise<void> {
  const bytes = await readFile(values.image);
  const detector = await loadIntruderDetector(values.model, { threads });
  for (let i = 0; i < WARMUP; i += 1) await detector.detect(bytes);
  const rssLoaded = process.memoryUsage().rss;

  // The raw run: the same model and session options, fed a tensor prepared once from the same image.
  const session = await ort.InferenceSession.create(values.model, detectorSessionOptions(threads));
  const { width, height } = detector.inputSize;
  const input = new Float32Array(3 * width * height);
  const pixels = await letterboxPixels(bytes, detector.inputSize, DEFAULT_MAX_PIXELS);
  writePlanarTensor(pixels.rgb, pixels.geometry, input);
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', input, [1, 3, height, width]) };
  for (let i = 0; i < WARMUP; i += 1) await session.run(feeds);

  const raw: number[] = [];
  const whole: number[] = [];
  const ratios: number[] = [];
  const parts: DetectionTimings[] = [];
  for (let round = 0; round < rounds; round += 1) {
    // Alternate which goes first so that neither always runs right after the other's cache effects.
    let rawMs = 0;
    let wholeMs = 0;
    const measureRaw = async () => {
      rawMs = await timed(() => session.run(feeds));
    };
    const measureWhole = async () => {
      wholeMs = await timed(async () => parts.push((await detector.detect(bytes)).timings_ms));
    };
    if (round % 2 === 0) {
      await measureRaw();
      await measureWhole();
    } else {
      await measureWhole();
      await measureRaw();
    }
    raw.push(rawMs);
    whole.push(wholeMs);
    ratios.push(wholeMs / rawMs);
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

  const part = (key: keyof DetectionTimings) => fixed(median(parts.map((t) => t[key])));
  const report = {
    model: values.model,
    image: values.image,
    threads,
    rounds,
    raw_run_ms: { median: fixed(median(raw)), p10: fixed(quantile(raw, 0.1)), p90: fixed(quantile(raw, 0.9)) },
    whole_path_ms: { median: fixed(median(whole)), p10: fixed(quantile(whole, 0.1)), p90: fixed(quantile(whole, 0.9)) },
    ratio_whole_over_raw: { median: fixed(median(ratios), 3), p10: fixed(quantile(ratios, 0.1), 3), p90: fixed(quantile(ratios, 0.9), 3) },
    whole_path_parts_ms: { decode: part('decode'), inference: part('inference'), postprocess: part('postprocess'), total: part('total') },
    back_to_back: {
      fps_pipelined: fixed(median(fpsPipelined)),
      fps_sequential: fixed(median(fpsSequential)),
      fps_raw_runs: fixed(median(fpsRaw)),
      ratio_pipelined_over_raw: fixed(median(fpsRatios), 3),
    },
    rss_mb: { detector_loaded: mb(rssLoaded), end_with_raw_session: mb(rssEnd) },
  };

  const lines = [
    `model ${report.model}, image ${report.image}, ${threads} threads, ${rounds} interleaved rounds after ${WARMUP} warm-up runs`,
    `raw session.run        median ${report.raw_run_ms.median} ms (p10 ${report.raw_run_ms.p10}, p90 ${report.raw_run_ms.p90})`,
    `whole detect path      median ${report.whole_path_ms.median} ms (p10 ${report.whole_path_ms.p10}, p90 ${report.whole_path_ms.p90})`,
    `  of which             decode ${report.whole_path_parts_ms.decode}, inference ${report.whole_path_parts_ms.inference}, postprocess ${report.whole_path_parts_ms.postprocess} ms`,
    `per-round ratio        median ${report.ratio_whole_over_raw.median}x (p10 ${report.ratio_whole_over_raw.p10}, p90 ${report.ratio_whole_over_raw.p90}; target <= 1.20)`,
    `back to back           ${report.back_to_back.fps_pipelined} fps pipelined, ${report.back_to_back.fps_sequential} fps one at a time, ` +
      `${report.back_to_back.fps_raw_runs} raw runs/s: ${report.back_to_back.ratio_pipelined_over_raw}x of 1/raw (target >= 0.9)`,
    `RSS                    ${report.rss_mb.detector_loaded} MB with the detector loaded and warm`,
  ];
  process.stdout.write(lines.join('\n') + '\n' + JSON.stringify(report) + '\n');
}

await main();
