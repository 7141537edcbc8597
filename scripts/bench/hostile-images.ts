/**
 * `npm run bench:hostile [-- --requests 30]`
 *
 * Peak memory of the HTTP API under a burst of concurrent hostile images: small files that are large
 * images, some of which must be decoded whole (a progressive JPEG, an interlaced PNG). For each scenario a
 * fresh server process (the real detector, the unit's Environment= and node options, `max_queue` as large
 * as the burst so every request is admitted, rate limit off) takes one warm-up request; its peak RSS is
 * then reset (/proc/<pid>/clear_refs) and N requests are sent at once to POST /v1/intruders. The figure
 * is the peak RSS (VmHWM) during the burst, against the same burst of bus.jpg in the same run.
 * Prints a table and, last, one JSON line with every figure.
 */
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { packageRoot } from '../../agent/lib/paths.js';
import { loadForecaster } from '../../models/forecast.js';
import { loadIntruderDetector } from '../../models/intruder.js';
import { BENCH_KEY as KEY, forkServer, serveApi, stopServer } from './bench-server.js';
import { CONTENT_TYPES, flatImage, type ImageLayout } from './layouts.js';
import { peakRssMb, resetPeak, rssMb } from './peak-memory.js';
import { unitEnvironment, unitNodeFlags } from './unit.js';

const fixtures = resolve(process.env.EDGE_AGENT_FIXTURES ?? join(packageRoot(), '..', 'shared', 'fixtures'));
const MODEL = join(fixtures, 'models', 'yolov8n-int8.onnx');
const BUS = join(fixtures, 'images', 'bus.jpg');

// ---- the server (child process) ----

async function serve(maxQueue: number): Promise<void> {
  // As the daemon: a camera never shows the same frame twice, so libvips' cache would only hold memory.
  sharp.cache(false);
  const { port } = await serveApi(await loadIntruderDetector(MODEL), await loadForecaster(), maxQueue);
  process.send!(port);
}

// ---- the load (parent) ----

interface Request {
  body: Buffer;
  type: string;
}

interface Scenario {
  name: string;
  requests: (n: number) => Request[];
}

interface Outcome {
  scenario: string;
  file_kb: number;
  statuses: Record<string, number>;
  rss_before_mb: number;
  peak_rss_mb: number;
  seconds: number;
}

function startServer(requests: number): Promise<{ child: ChildProcess; port: number }> {
  const options = { env: { ...process.env, ...unitEnvironment() }, execArgv: unitNodeFlags() };
  return forkServer<number>(fileURLToPath(import.meta.url), ['--serve', String(requests)], options).then(({ child, ready }) => ({ child, port: ready }));
}

function post(port: number, { body, type }: Request): Promise<number> {
  return fetch(`http://127.0.0.1:${port}/v1/intruders`, { method: 'POST', headers: { 'x-api-key': KEY, 'content-type': type }, body })
    .then(async (response) => {
      await response.arrayBuffer();
      return response.status;
    })
    .catch(() => 0);
}

async function run(scenario: Scenario, requests: number, warmUp: Request): Promise<Outcome> {
  const { child, port } = await startServer(requests);
  try {
    await post(port, warmUp);
    const pid = child.pid!;
    resetPeak(pid);
    const rssBefore = rssMb(pid);
    const started = performance.now();
    const burst = scenario.requests(requests);
    const statuses = await Promise.all(burst.map((request) => post(port, request)));
    const counts: Record<string, number> = {};
    for (const status of statuses) counts[String(status)] = (counts[String(status)] ?? 0) + 1;
    const fileKb = Math.round(burst.reduce((sum, r) => sum + r.body.length, 0) / burst.length / 1024);
    return { scenario: scenario.name, file_kb: fileKb, statuses: counts, rss_before_mb: round(rssBefore), peak_rss_mb: round(peakRssMb(pid)), seconds: round((performance.now() - started) / 1000) };
  } finally {
    await stopServer(child);
  }
}

const round = (value: number) => Number(value.toFixed(1));

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { requests: { type: 'string', default: '30' } } });
  const requests = Number(values.requests);
  const bus: Request = { body: await readFile(BUS), type: 'image/jpeg' };
  const image = async (layout: ImageLayout, width: number, height: number): Promise<Request> => ({ body: await flatImage(layout, width, height), type: CONTENT_TYPES[layout] });
  const hostile = {
    progressive: await image('progressive-jpeg', 8300, 8300),
    interlaced: await image('interlaced-png', 8300, 8300),
    baseline: await image('baseline-jpeg', 8300, 8300),
    plain: await image('png', 8300, 8300),
    phone: await image('progressive-jpeg', 4032, 3024),
  };
  const same = (name: string, request: Request): Scenario => ({ name, requests: (n) => new Array<Request>(n).fill(request) });
  const scenarios: Scenario[] = [
    same('bus.jpg 554x740 (the baseline)', bus),
    same('progressive JPEG 8300x8300', hostile.progressive),
    same('interlaced PNG 8300x8300', hostile.interlaced),
    same('baseline JPEG 8300x8300', hostile.baseline),
    same('PNG 8300x8300', hostile.plain),
    same('progressive JPEG 4032x3024 (a phone photo)', hostile.phone),
    { name: 'all of the above, mixed', requests: (n) => Array.from({ length: n }, (_, i) => Object.values(hostile)[i % 5]!) },
  ];

  console.log(`${requests} concurrent POST /v1/intruders per scenario, a fresh server each (max_queue ${requests}, unit environment)\n`);
  const outcomes: Outcome[] = [];
  for (const scenario of scenarios) {
    const outcome = await run(scenario, requests, bus);
    outcomes.push(outcome);
    const ratio = outcome.peak_rss_mb / outcomes[0]!.peak_rss_mb;
    const statuses = Object.entries(outcome.statuses).map(([status, count]) => `${count}x${status}`).join(' ');
    console.log(
      `${outcome.scenario.padEnd(44)} ${String(outcome.file_kb).padStart(6)} KB  ${statuses.padEnd(16)} ` +
        `RSS ${outcome.rss_before_mb} -> peak ${outcome.peak_rss_mb} MB (x${ratio.toFixed(2)} the baseline's peak), ${outcome.seconds} s`,
    );
  }
  console.log(JSON.stringify({ requests, outcomes }));
}

if (process.argv[2] === '--serve') await serve(Number(process.argv[3]));
else await main();
