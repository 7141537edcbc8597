/**
 * `npm run bench:forecast`: how fast the shipped forecaster is on this machine.
 * - single-call latency of `forecast()` (one window per session.run), percentiles in microseconds;
 * - `forecastBatch()` throughput at several batch sizes, windows per second;
 * - `edge-agent forecast --batch` end to end (node start, model load, JSON in and out), lines per second.
 * Windows are a seeded random walk around 21 °C, so runs are comparable. Numbers measured while other
 * work shares the CPU are noisy.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { packageRoot } from '../../agent/lib/paths.js';
import { loadForecaster } from '../../models/forecast.js';
import type { Forecaster } from '../../models/types.js';
import { seededRandom } from '../train/forecast-mlp.js';

const SINGLE_CALLS = 20_000;
const BATCH_SIZES = [1, 16, 256, 4096];
const CLI_LINES = 100_000;

function randomWindows(count: number, seed = 42): number[][] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    let celsius = 19 + random() * 4;
    return Array.from({ length: 60 }, () => (celsius = Math.round((celsius + (random() - 0.5) * 0.1) * 100) / 100));
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function singleCallLatency(forecaster: Forecaster, windows: number[][]): Promise<void> {
  for (let i = 0; i < 1000; i++) await forecaster.forecast(windows[i % windows.length] as number[]);
  const micros: number[] = [];
  for (let i = 0; i < SINGLE_CALLS; i++) {
    const start = performance.now();
    await forecaster.forecast(windows[i % windows.length] as number[]);
    micros.push((performance.now() - start) * 1000);
  }
  micros.sort((a, b) => a - b);
  const mean = micros.reduce((a, b) => a + b, 0) / micros.length;
  console.log(`forecast() single call, ${SINGLE_CALLS} calls: p50 ${percentile(micros, 50).toFixed(0)} µs, p99 ${percentile(micros, 99).toFixed(0)} µs, mean ${mean.toFixed(0)} µs`);
}

async function batchThroughput(forecaster: Forecaster, windows: number[][]): Promise<void> {
  for (const size of BATCH_SIZES) {
    const batch = windows.slice(0, size);
    const rounds = Math.max(3, Math.ceil(50_000 / size));
    await forecaster.forecastBatch(batch);
    const start = performance.now();
    for (let r = 0; r < rounds; r++) await forecaster.forecastBatch(batch);
    const seconds = (performance.now() - start) / 1000;
    console.log(`forecastBatch(${size}): ${Math.round((rounds * size) / seconds).toLocaleString('en')} windows/s (${((seconds / rounds) * 1000).toFixed(3)} ms per call)`);
  }
}

/** Wall time of `edge-agent forecast --batch` over the given input, checking every line was answered. */
function timeCli(input: string, expectedLines: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, [join(packageRoot(), 'dist', 'agent', 'cli.js'), 'forecast', '--batch'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let answered = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      for (const byte of chunk) if (byte === 10) answered++;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 || answered !== expectedLines) reject(new Error(`edge-agent forecast --batch exited ${code} after ${answered} of ${expectedLines} lines`));
      else resolve((performance.now() - start) / 1000);
    });
    child.stdin.end(input);
  });
}

async function cliThroughput(windows: number[][]): Promise<void> {
  const lines = Array.from({ length: CLI_LINES }, (_, i) => JSON.stringify({ values: windows[i % windows.length] }) + '\n').join('');
  const startup = await timeCli('', 0);
  const total = await timeCli(lines, CLI_LINES);
  console.log(
    `edge-agent forecast --batch, ${CLI_LINES.toLocaleString('en')} lines: ${total.toFixed(2)} s wall, ` +
      `${Math.round(CLI_LINES / total).toLocaleString('en')} lines/s including start-up (${(startup * 1000).toFixed(0)} ms), ` +
      `${Math.round(CLI_LINES / (total - startup)).toLocaleString('en')} lines/s after it`,
  );
}

async function main(): Promise<void> {
  const windows = randomWindows(4096);
  const loadStart = performance.now();
  const forecaster = await loadForecaster();
  console.log(`${forecaster.info.name} ${forecaster.info.version}: loaded in ${(performance.now() - loadStart).toFixed(1)} ms`);
  try {
    await singleCallLatency(forecaster, windows);
    await batchThroughput(forecaster, windows);
  } finally {
    await forecaster.close();
  }
  await cliThroughput(windows);
}

await main();
