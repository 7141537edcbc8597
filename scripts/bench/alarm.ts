/**
 * `npm run bench:alarm`: what "an alarm implies a durable alert" costs. The vision pipeline commits a
 * start event's detection and alert (fsynced: SqliteStore.saveDetection) before it switches the alarm
 * on, and draws the snapshot after. This prints, on this machine and this disk (the data folder is made
 * under BENCH_DIR, default the system's temporary folder: point it at the SD card on a Pi):
 *  - the commit the alarm now waits for (median, p95, worst of BENCH_N start events): what the order adds
 *    to alarm latency;
 *  - the snapshot of bus.jpg drawn and encoded as the pipeline does: the window during which, in the old
 *    order (alarm, snapshot, commit), an alarm had sounded for an alert a power cut could lose.
 * Fixtures come from ../shared/fixtures (or EDGE_AGENT_FIXTURES).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { silentLogger } from '../../agent/lib/log.js';
import { packageRoot } from '../../agent/lib/paths.js';
import { MessageBuilder } from '../../agent/mqtt/messages.js';
import { SqliteStore } from '../../agent/store/store.js';
import type { DetectionRecord, TrackedObject } from '../../agent/store/types.js';
import { drawDetections, fitJpeg } from '../../agent/vision/snapshot.js';

const N = Number(process.env.BENCH_N ?? 200);
const SNAPSHOT_MAX_BYTES = 120_000;
const fixtures = resolve(process.env.EDGE_AGENT_FIXTURES ?? join(packageRoot(), '..', 'shared', 'fixtures'));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function summary(ms: number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  return `median ${percentile(sorted, 0.5).toFixed(2)} ms, p95 ${percentile(sorted, 0.95).toFixed(2)} ms, worst ${sorted.at(-1)!.toFixed(2)} ms`;
}

const person = (i: number): TrackedObject => ({
  class: 'person',
  confidence: 0.88,
  bbox: { xmin: 50 + i, ymin: 400, xmax: 240 + i, ymax: 900 },
  track_id: `t${i}`,
  top_score: 0.9,
  stationary: false,
  zones: [],
});

async function main(): Promise<void> {
  const image = readFileSync(join(fixtures, 'images', 'bus.jpg'));
  const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'bench-alarm-'));
  const store = SqliteStore.open(join(dir, 'edge.db'), { logger: silentLogger(), config: { max_outbox_rows: 100_000, retention_days: 30 } });
  const messages = new MessageBuilder('edge/bench', 'bench');
  try {
    const commits: number[] = [];
    for (let i = 0; i < N; i++) {
      const record: DetectionRecord = {
        id: messages.ids.next(),
        event_id: `e${i}`, camera: 'main',
        event: 'start',
        ts: Date.now(),
        objects: [person(i % 50), { ...person(i % 50), track_id: `u${i}`, class: 'dog', confidence: 0.8 }],
        model: { name: 'yolov8n', version: '8n-int8' },
        snapshot: null,
      };
      const started = performance.now();
      store.saveDetection(record, [messages.intruderAlert(record)]);
      commits.push(performance.now() - started);
    }
    const snapshots: number[] = [];
    for (let i = 0; i < Math.min(N, 20); i++) {
      const started = performance.now();
      await fitJpeg(await drawDetections({ format: 'jpeg', data: image }, [person(0)]), SNAPSHOT_MAX_BYTES);
      snapshots.push(performance.now() - started);
    }
    console.log(`data folder: ${dir}`);
    console.log(`alarm waits for the commit + fsync of the start event (${N} events): ${summary(commits)}`);
    console.log(`old order, alarm on before a durable alert while the snapshot was made (bus.jpg, ${snapshots.length} runs): ${summary(snapshots)}`);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
