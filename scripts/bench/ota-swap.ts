/**
 * `npm run bench:ota [-- --swaps N --model FILE --image FILE --threads N]`
 *
 * Repeated over-the-air swaps of the intruder model, as the daemon does them: each swap installs a new
 * version (file:// source, sha256 checked, keep_versions 2 so old ones are pruned), validates it in a new
 * session, activates it and hot-swaps the slot while a "pipeline" keeps detecting on the old model.
 * Records the process RSS after every swap (after a GC when run with --expose-gc, as the npm script does)
 * to show that replaced sessions are released. Prints a table and, last, one JSON line.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { silentLogger } from '../../agent/lib/log.js';
import { ModelSlot } from '../../agent/runtime/model-slot.js';
import { ModelUpdater } from '../../agent/ota/updater.js';
import { packageRoot } from '../../agent/lib/paths.js';
import { loadIntruderDetector } from '../../models/intruder.js';
import { ModelRegistry } from '../../agent/ota/registry.js';
import type { IntruderDetector } from '../../models/types.js';

const fixtures = resolve(process.env.EDGE_AGENT_FIXTURES ?? join(packageRoot(), '..', 'shared', 'fixtures'));
const { values } = parseArgs({
  options: {
    swaps: { type: 'string', default: '20' },
    threads: { type: 'string', default: '1' },
    model: { type: 'string', default: join(fixtures, 'models', 'yolov8n-int8.onnx') },
    image: { type: 'string', default: join(fixtures, 'images', 'dog.jpg') },
  },
});
const swaps = Number(values.swaps);
const threads = Number(values.threads);
if (!Number.isInteger(swaps) || swaps < 2) throw new Error(`--swaps: expected an integer >= 2, got ${values.swaps}`);
if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads: expected a positive integer, got ${values.threads}`);

const mb = (bytes: number) => Number((bytes / 2 ** 20).toFixed(1));
const gc = (globalThis as { gc?: () => void }).gc;

function rss(): number {
  gc?.();
  return process.memoryUsage().rss;
}

async function main(): Promise<void> {
  const image = readFileSync(values.image);
  const sha256 = createHash('sha256').update(readFileSync(values.model)).digest('hex');
  const url = pathToFileURL(values.model).href;
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-ota-'));
  const slot = new ModelSlot<IntruderDetector>();
  const updater = new ModelUpdater({
    registry: new ModelRegistry({ dataDir, keepVersions: 2 }),
    loaders: {
      intruder: (path, identity) => loadIntruderDetector(path, { ...identity, threads }),
      forecast: () => Promise.reject(new Error('not benchmarked')),
    },
    slots: { intruder: slot },
    fetch: { maxBytes: 200 * 2 ** 20, connectTimeoutMs: 10_000, readTimeoutMs: 60_000, deadlineMs: 1_600_000 },
    publicKey: null,
    logger: silentLogger(),
  });

  const rows: { swap: number; ms: number; rss: number; detections: number }[] = [];
  try {
    for (let i = 0; i <= swaps; i++) {
      const started = performance.now();
      // The pipeline keeps running on the current model while the next one is installed and validated.
      const inFlight = slot.current() ? slot.use((m) => m.detect(image)) : Promise.resolve(null);
      await updater.update({ role: 'intruder', version: `v${i}`, url, sha256 });
      await inFlight;
      const ms = performance.now() - started;
      const detections = (await slot.use((m) => m.detect(image))).objects.length;
      rows.push({ swap: i, ms, rss: rss(), detections });
    }
  } finally {
    await slot.close();
    rmSync(dataDir, { recursive: true, force: true });
  }

  const first = rows[1]!; // swap 0 is the first load, not a swap
  const last = rows.at(-1)!;
  // The allocator keeps a high-water mark after the first swaps; a leak shows as growth in the second half.
  const middle = rows[Math.ceil(swaps / 2)]!;
  const peak = Math.max(...rows.slice(1).map((r) => r.rss));
  console.log(`OTA swap benchmark: ${swaps} swaps of ${values.model} (${threads} thread(s)), gc ${gc ? 'on' : 'OFF (run with --expose-gc)'}`);
  console.log('swap   ms     RSS MB  detections');
  for (const r of rows) console.log(`${String(r.swap).padStart(4)} ${r.ms.toFixed(0).padStart(6)} ${mb(r.rss).toFixed(1).padStart(8)}  ${r.detections}`);
  console.log(
    `RSS after swap 1: ${mb(first.rss)} MB, after swap ${middle.swap}: ${mb(middle.rss)} MB, after swap ${swaps}: ${mb(last.rss)} MB ` +
      `(second-half growth ${mb(last.rss - middle.rss)} MB), peak ${mb(peak)} MB`,
  );
  console.log(
    JSON.stringify({
      bench: 'ota-swap',
      swaps,
      threads,
      gc: Boolean(gc),
      rss_mb: rows.map((r) => mb(r.rss)),
      rss_after_first_swap_mb: mb(first.rss),
      rss_after_last_swap_mb: mb(last.rss),
      rss_growth_mb: mb(last.rss - first.rss),
      rss_second_half_growth_mb: mb(last.rss - middle.rss),
      rss_peak_mb: mb(peak),
      swap_ms_median: Number([...rows.slice(1).map((r) => r.ms)].sort((a, b) => a - b)[Math.floor(swaps / 2)]!.toFixed(0)),
    }),
  );
}

await main();
