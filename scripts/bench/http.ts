/**
 * `npm run bench:http [-- --duration S --connections N]`
 *
 * autocannon against the HTTP API served by a child process on 127.0.0.1 (so the load generator does
 * not share the server's event loop), rate limiting off:
 * - POST /v1/temperature/forecast (the shipped forecaster): requests/s and latency p50/p99;
 * - POST /v1/temperature/forecast/batch with `http.max_batch_items` (8) windows a request and as many
 *   windows in flight as the single route had: windows answered per second against the single route's;
 * - POST /v1/intruders with bus.jpg, for queue depths 2 and 8: the detector's own back-to-back rate
 *   (measured in the server process, two frames in flight, before and after the load: the mean is the
 *   reference); the HTTP throughput with just enough connections to keep the queue full, against it;
 *   and with more connections than the queue holds (the excess gets 503), the p99 of the answered
 *   requests against the bound the queue depth sets.
 * Prints a readable report and, last, one JSON line with every figure.
 */
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultConfig } from '../../agent/config/load.js';
import { packageRoot } from '../../agent/lib/paths.js';
import { loadForecaster } from '../../models/forecast.js';
import { loadIntruderDetector } from '../../models/intruder.js';
import type { IntruderDetector } from '../../models/types.js';
import { BENCH_KEY as KEY, forkServer, serveApi, stopServer } from './bench-server.js';

/** The part of autocannon's API used here (it ships no type declarations). */
interface AutocannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number; max: number };
  duration: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  '2xx': number;
  statusCodeStats: Record<string, { count: number }>;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const fixtures = resolve(process.env.EDGE_AGENT_FIXTURES ?? join(packageRoot(), '..', 'shared', 'fixtures'));
const MODEL = join(fixtures, 'models', 'yolov8n-int8.onnx');
const IMAGE = join(fixtures, 'images', 'bus.jpg');
const BASELINE_FRAMES = 30;

interface ServerReady {
  port: number;
  /** The detector's own back-to-back rate, frames/s, measured in the server process before it listens. */
  detectorRate: number;
}

// ---- the server side (child process) ----

/** Frames handed to the detector as soon as it can take them, two in flight (as the vision pipeline does). */
async function backToBack(detector: IntruderDetector, image: Buffer): Promise<number> {
  for (let i = 0; i < 3; i++) await detector.detect(image);
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next++ < BASELINE_FRAMES) await detector.detect(image);
  };
  await Promise.all([worker(), worker()]);
  return BASELINE_FRAMES / ((performance.now() - started) / 1000);
}

async function serve(maxQueue: number): Promise<void> {
  const detector = await loadIntruderDetector(MODEL);
  const forecaster = await loadForecaster();
  const image = await readFile(IMAGE);
  const detectorRate = await backToBack(detector, image);
  const { port } = await serveApi(detector, forecaster, maxQueue);
  const ready: ServerReady = { port, detectorRate };
  process.send!(ready);
  // Measured again after the load (the machine's speed drifts): the parent compares with the mean.
  process.on('message', () => void backToBack(detector, image).then((rate) => process.send!(rate)));
}

// ---- the load side (parent) ----

function startServer(maxQueue: number): Promise<{ child: ChildProcess; ready: ServerReady }> {
  return forkServer<ServerReady>(fileURLToPath(import.meta.url), ['--serve', String(maxQueue)]);
}

function measureAgain(child: ChildProcess): Promise<number> {
  return new Promise((resolveRate) => {
    child.once('message', (rate) => resolveRate(rate as number));
    child.send('baseline');
  });
}

function post(port: number, path: string, body: Buffer | string, contentType: string, connections: number, duration: number) {
  return autocannon({
    url: `http://127.0.0.1:${port}${path}`,
    method: 'POST',
    headers: { 'x-api-key': KEY, 'content-type': contentType },
    body,
    connections,
    duration,
    // A full queue answers 503 at once: latency figures are of the 2xx answers only.
    excludeErrorStats: true,
    timeout: 30,
  });
}

const round = (value: number, digits = 1) => Number(value.toFixed(digits));

async function benchDetection(image: Buffer, maxQueue: number, connections: number, duration: number) {
  const { child, ready } = await startServer(maxQueue);
  // Saturated: just enough connections to keep 2 in flight and the queue full, so none is refused.
  const saturated = await post(ready.port, '/v1/intruders', image, 'image/jpeg', maxQueue + 2, duration);
  // Overloaded: more connections than the queue holds; the excess is refused with 503 at once.
  const overloaded = await post(ready.port, '/v1/intruders', image, 'image/jpeg', connections, duration);
  const after = await measureAgain(child);
  await stopServer(child);
  const detectorRate = (ready.detectorRate + after) / 2;
  const answered = saturated['2xx'] / saturated.duration;
  const answeredOverloaded = overloaded['2xx'] / overloaded.duration;
  return {
    max_queue: maxQueue,
    detector_back_to_back_per_s: round(detectorRate, 2),
    detector_before_after_per_s: [round(ready.detectorRate, 2), round(after, 2)],
    http_2xx_per_s: round(answered, 2),
    ratio: round(answered / detectorRate, 3),
    saturated_p99_ms: saturated.latency.p99,
    overloaded_2xx_per_s: round(answeredOverloaded, 2),
    overloaded_p50_ms: overloaded.latency.p50,
    overloaded_p99_ms: overloaded.latency.p99,
    // An accepted request waits for at most max_queue requests ahead and the 2 in flight, then its own
    // run, at the rate requests were answered during that run (the refused ones cost CPU too).
    p99_bound_ms: Math.round(((maxQueue + 3) * 1000) / answeredOverloaded),
    rejected_503: overloaded.statusCodeStats['503']?.count ?? 0,
    errors: saturated.errors + overloaded.errors + saturated.timeouts + overloaded.timeouts,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      serve: { type: 'string' },
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '16' },
    },
  });
  if (values.serve !== undefined) return serve(Number(values.serve));
  const duration = Number(values.duration);
  const connections = Number(values.connections);
  if (!(duration > 0) || !Number.isInteger(connections) || connections < 1) throw new Error('--duration and --connections must be positive');

  const readings = Array.from({ length: 60 }, (_, i) => 21 + Math.sin(i / 10));
  const window = JSON.stringify({ values: readings });
  const batchSize = defaultConfig().http.max_batch_items;
  const windows = JSON.stringify({ windows: new Array(batchSize).fill(readings) });
  const forecastServer = await startServer(64);
  const forecast = await post(forecastServer.ready.port, '/v1/temperature/forecast', window, 'application/json', connections, duration);
  const batchConnections = Math.max(1, Math.ceil(connections / batchSize));
  const batch = await post(forecastServer.ready.port, '/v1/temperature/forecast/batch', windows, 'application/json', batchConnections, duration);
  await stopServer(forecastServer.child);
  const batchWindowsPerS = round((batch['2xx'] / batch.duration) * batchSize);
  const singleWindowsPerS = forecast['2xx'] / forecast.duration;
  console.log(`POST /v1/temperature/forecast, ${connections} connections, ${duration} s, rate limit off`);
  console.log(`  ${round(forecast.requests.average)} req/s, p50 ${forecast.latency.p50} ms, p99 ${forecast.latency.p99} ms, non-2xx ${forecast.non2xx}, errors ${forecast.errors}`);
  console.log(`POST /v1/temperature/forecast/batch, ${batchSize} windows a request, ${batchConnections} connections (as many windows in flight)`);
  console.log(
    `  ${round(batch.requests.average)} req/s = ${batchWindowsPerS} windows/s answered (x${round(batchWindowsPerS / singleWindowsPerS, 2)} the single route's), ` +
      `p50 ${batch.latency.p50} ms, p99 ${batch.latency.p99} ms, non-2xx ${batch.non2xx}, errors ${batch.errors}`,
  );

  const image = await readFile(IMAGE);
  const detections = [];
  for (const maxQueue of [2, 8]) detections.push(await benchDetection(image, maxQueue, connections, duration));
  console.log(`POST /v1/intruders (bus.jpg), ${duration} s per run, rate limit off`);
  for (const d of detections) {
    console.log(
      `  max_queue ${d.max_queue}, ${d.max_queue + 2} connections: ${d.http_2xx_per_s}/s answered vs ${d.detector_back_to_back_per_s}/s back-to-back ` +
        `(mean of ${d.detector_before_after_per_s.join(' before, ')} after): x${d.ratio}, p99 ${d.saturated_p99_ms} ms`,
    );
    console.log(
      `  max_queue ${d.max_queue}, ${connections} connections: ${d.overloaded_2xx_per_s}/s answered, p50 ${d.overloaded_p50_ms} ms, ` +
        `p99 ${d.overloaded_p99_ms} ms (bound (max_queue + 3) / answered rate = ${d.p99_bound_ms} ms), ${d.rejected_503} answered 503, ${d.errors} errors`,
    );
  }
  console.log(
    JSON.stringify({
      forecast: { req_per_s: round(forecast.requests.average), p50_ms: forecast.latency.p50, p99_ms: forecast.latency.p99, non_2xx: forecast.non2xx, connections, duration_s: duration },
      forecast_batch: {
        windows_per_request: batchSize,
        connections: batchConnections,
        req_per_s: round(batch.requests.average),
        windows_per_s: batchWindowsPerS,
        p50_ms: batch.latency.p50,
        p99_ms: batch.latency.p99,
        non_2xx: batch.non2xx,
      },
      intruders: detections,
    }),
  );
}

await main();
