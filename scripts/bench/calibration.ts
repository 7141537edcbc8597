/**
 * `npm run bench:calibration`: what one forecast calibration costs, run as the daemon runs it (the
 * compiled worker thread at nice 19 reading a real database file), for 3, 7, 14 and 28 days of a room
 * read every 10 s (the default `sensor.interval_s`; 28 days is `forecast.calibration.max_days`). Prints
 * the worker thread's CPU time, its wall time, the worker's peak heap (V8 heap + typed arrays, sampled
 * at each stage) and the growth of the process's peak resident memory, with an estimate for a
 * Raspberry Pi 4 core. The readings are the simulated room's (drivers/sensors/simulated.ts).
 *
 * Options: --days 3,7,14,28  --interval-s 10.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { silentLogger } from '../../agent/lib/log.js';
import { SqliteStore } from '../../agent/store/store.js';
import { HOLDOUT_MS } from '../../agent/telemetry/calibration/dataset.js';
import { workerRunner } from '../../agent/telemetry/calibration/run-worker.js';
import { simulatedTemperature } from '../../drivers/sensors/simulated.js';

/** Same figure and source as scripts/eval/forecast.ts: sysbench cpu, one thread, here against a Pi 4. */
const PI4_SLOWDOWN = 2.6;
const DAY_MS = 86_400_000;

const { values } = parseArgs({ options: { days: { type: 'string', default: '3,7,14,28' }, 'interval-s': { type: 'string', default: '10' } } });
const intervalMs = Number(values['interval-s']) * 1000;

/** Peak resident memory of this process so far (VmHWM), in bytes. */
function peakRss(): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

async function bench(days: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'edge-agent-bench-calibration-'));
  const store = SqliteStore.open(join(dir, 'edge-agent.db'), { logger: silentLogger(), config: { max_outbox_rows: 1000, retention_days: 365 } });
  const curve = simulatedTemperature(1);
  const start = Date.UTC(2025, 0, 1);
  const end = start + days * DAY_MS;
  let readings = 0;
  for (let ts = start; ts <= end; ts += intervalMs, readings++) {
    store.saveReading({ valid: true, celsius: Math.round(curve(ts) * 100) / 100, ts, sensor: 'sim' }, []);
    // One commit per few thousand readings (the store commits a job's writes together).
    if (readings % 5000 === 4999) await new Promise((resolve) => setImmediate(resolve));
  }
  await new Promise((resolve) => setImmediate(resolve));
  const rssBefore = peakRss();
  const job = {
    dbPath: store.path,
    fromTs: start,
    endTs: end,
    spec: { window: 60, step_s: 60, horizon_s: 3600 },
    holdoutMs: HOLDOUT_MS,
    version: 'bench',
    minTrainingWindows: 720,
    minHoldoutWindows: 360,
  };
  const reply = await workerRunner()(job, new AbortController().signal);
  const rssGrowth = peakRss() - rssBefore;
  store.close();
  rmSync(dir, { recursive: true, force: true });
  if (!reply.ok) throw new Error(`calibration of ${days} days failed: ${reply.error}`);
  const { cost, fit } = reply;
  const cpu = cost.cpu_ms === null ? '?' : `${Math.round(cost.cpu_ms)} ms`;
  const pi = cost.cpu_ms === null ? '?' : `${((cost.cpu_ms * PI4_SLOWDOWN) / 1000).toFixed(1)} s`;
  console.log(
    `${String(days).padStart(3)} days, ${readings.toLocaleString('en')} readings: ${fit.training.count.toLocaleString('en')} windows trained on, ${fit.holdout.count} judged on; ` +
      `worker CPU ${cpu} (Pi 4 core about ${pi}), wall ${cost.wall_ms} ms, worker peak heap ${(cost.peak_bytes / 1e6).toFixed(1)} MB, process peak RSS +${(rssGrowth / 1e6).toFixed(1)} MB`,
  );
}

console.log(`bench:calibration: one calibration as the daemon runs it, readings every ${intervalMs / 1000} s (Pi 4 estimate: CPU time x ${PI4_SLOWDOWN})`);
for (const days of values.days.split(',').map(Number)) await bench(days);
