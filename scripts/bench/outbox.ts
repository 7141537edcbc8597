/**
 * `npm run bench:outbox`: what store-and-forward costs. Against a local mosquitto (started here):
 *  1. messages/s stored in SQLite and relayed at QoS 1 until every PUBACK (and the row deleted),
 *     against mqtt.js publishing the same messages at QoS 1 with no storage, in the same run. The
 *     producer writes slices of 100 readings per event-loop turn (a burst: they share a commit);
 *     the same with one reading per turn (a commit each) is printed beside it;
 *  2. the durability choice: one commit with synchronous NORMAL vs FULL, and the throughput with FULL;
 *  3. 10,000 messages buffered while the broker is down, drained after it comes back.
 * The ratio is the median of each round's own ratio (stored+relayed ÷ the baseline measured just
 * before it): this VM's speed drifts by a factor of two within a minute, and pairing cancels most of it.
 * Environment: BENCH_N (messages per round, default 20000), BENCH_ROUNDS (default 5).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect } from 'mqtt';
import { defaultConfig } from '../../agent/config/load.js';
import type { OutboxMessage } from '../../agent/store/types.js';
import { silentLogger } from '../../agent/lib/log.js';
import { MessageBuilder } from '../../agent/mqtt/messages.js';
import { MqttRelay } from '../../agent/mqtt/relay.js';
import { StoreMaintenance } from '../../agent/store/maintenance.js';
import { SqliteStore } from '../../agent/store/store.js';
import { MosquittoProcess } from './mosquitto.js';

const N = Number(process.env.BENCH_N ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const OUTAGE_N = 10_000;
const DEVICE = 'bench';

type Reading = { valid: true; celsius: number; ts: number; sensor: string };
interface Workload {
  readings: Reading[];
  messages: OutboxMessage[];
}

function workload(n: number): Workload {
  const build = new MessageBuilder(`edge/${DEVICE}`, DEVICE);
  const readings = Array.from({ length: n }, (_, i): Reading => ({ valid: true, celsius: 20 + (i % 500) / 100, ts: Date.now(), sensor: 'bme280@0x76' }));
  return { readings, messages: readings.map((r) => build.telemetry(r)) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(done: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/**
 * mqtt.js alone: publish every message at QoS 1, wait for every PUBACK. Returns ms. `window` = null
 * publishes them all at once (mqtt.js has no in-flight limit); a number keeps at most that many
 * unacknowledged, as the relay does (`max_inflight`): the like-for-like baseline.
 */
async function plainMqtt(url: string, w: Workload, window: number | null): Promise<number> {
  const client = connect(url, { clientId: `bench-plain-${process.pid}`, reconnectPeriod: 0 });
  await new Promise((resolve, reject) => client.once('connect', resolve).once('error', reject));
  (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true); // as the relay does
  const t0 = performance.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < w.messages.length) {
      const m = w.messages[next++]!;
      await client.publishAsync(m.topic, m.payload, { qos: 1 });
    }
  };
  await Promise.all(Array.from({ length: window ?? w.messages.length }, lane));
  const ms = performance.now() - t0;
  await client.endAsync();
  return ms;
}

interface Rig {
  store: SqliteStore;
  relay: MqttRelay;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Store, its maintenance (the group commit: a checkpoint with fsync every second) and relay, as the agent wires them. */
function rig(url: string, synchronous: 'NORMAL' | 'FULL'): Rig {
  const dir = mkdtempSync(join(tmpdir(), 'bench-outbox-'));
  const logger = silentLogger();
  const store = SqliteStore.open(join(dir, 'edge.db'), { logger, config: { max_outbox_rows: 1_000_000, retention_days: 30 }, synchronous });
  const maintenance = new StoreMaintenance({ store, logger });
  const relay = new MqttRelay({ store, config: { ...defaultConfig().mqtt, url }, deviceId: DEVICE, logger });
  return {
    store,
    relay,
    async start() {
      await maintenance.start();
      await relay.start();
    },
    async close() {
      await relay.stop();
      await maintenance.stop();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The agent's path: each reading saved with its message (as the pipelines do), `perTurn` readings per
 * event-loop turn so the relay runs in between, until the outbox is empty. Returns ms.
 */
async function storeAndRelay(url: string, w: Workload, synchronous: 'NORMAL' | 'FULL', perTurn = 100): Promise<number> {
  const r = rig(url, synchronous);
  await r.start();
  await until(() => r.relay.connected, 'the relay to connect');
  const t0 = performance.now();
  let i = 0;
  await new Promise<void>((resolve) => {
    const produce = () => {
      for (const end = Math.min(i + perTurn, w.readings.length); i < end; i++) r.store.saveReading(w.readings[i]!, [w.messages[i]!]);
      if (i < w.readings.length) setImmediate(produce);
      else resolve();
    };
    produce();
  });
  await until(() => r.store.outboxDepth() === 0, 'the outbox to empty');
  const ms = performance.now() - t0;
  await r.close();
  return ms;
}

/** µs per single-message write, committed alone (the end of its job commits it). */
async function commitCost(synchronous: 'NORMAL' | 'FULL', n: number, w: Workload): Promise<number> {
  const r = rig('mqtt://127.0.0.1:1', synchronous);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    r.store.enqueue([w.messages[i]!]);
    await Promise.resolve(); // runs after the commit, which was queued first
  }
  const us = ((performance.now() - t0) * 1000) / n;
  void r.close();
  return us;
}

async function outage(broker: MosquittoProcess, w: Workload): Promise<{ enqueueMs: number; reconnectMs: number; drainMs: number }> {
  const r = rig(broker.url, 'NORMAL');
  await r.start();
  await until(() => r.relay.connected, 'the relay to connect');
  await broker.stop();
  await until(() => !r.relay.connected, 'the relay to notice the outage');
  let t0 = performance.now();
  for (let i = 0; i < w.readings.length; i++) r.store.saveReading(w.readings[i]!, [w.messages[i]!]);
  const enqueueMs = performance.now() - t0;
  t0 = performance.now();
  await broker.resume();
  await until(() => r.relay.connected, 'the relay to reconnect', 60_000);
  const reconnectMs = performance.now() - t0;
  await until(() => r.store.outboxDepth() === 0, 'the backlog to drain');
  const drainMs = performance.now() - t0;
  await r.close();
  return { enqueueMs, reconnectMs, drainMs };
}

const rate = (n: number, ms: number) => (n / ms) * 1000;
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

async function main(): Promise<void> {
  const broker = await MosquittoProcess.start();
  try {
    const w = workload(N);
    const bytes = Buffer.byteLength(String(w.messages[0]!.payload));
    console.log(`bench:outbox: ${fmt(N)} telemetry messages of ${bytes} bytes, QoS 1, mosquitto on 127.0.0.1:${broker.port}, max_inflight ${defaultConfig().mqtt.max_inflight}`);
    const window = defaultConfig().mqtt.max_inflight;
    console.log(
      `columns: mqtt.js with all ${fmt(N)} in flight; mqtt.js with at most ${window} in flight (the relay's window: like for like); ` +
        `the agent's path, 100 readings per turn, then 1; the first one's ratio to each baseline`,
    );
    console.log('round  mqtt.js unbounded  mqtt.js window    stored+relayed   (1 per turn)     ratio (unbounded, window)');
    const unbounded: number[] = [];
    const windowed: number[] = [];
    const stored: number[] = [];
    const single: number[] = [];
    const ratios: { unbounded: number; window: number }[] = [];
    const msgs = (x: number) => `${fmt(x).padStart(8)} msg/s`;
    const row = (label: string, u: number, p: number, s: number, one: number, r: { unbounded: number; window: number }) =>
      console.log(`${label.padEnd(6)} ${msgs(u)}     ${msgs(p)}   ${msgs(s)}   ${msgs(one)}   ${r.unbounded.toFixed(2)}, ${r.window.toFixed(2)}`);
    for (let round = 1; round <= ROUNDS; round++) {
      unbounded.push(rate(N, await plainMqtt(broker.url, w, null)));
      windowed.push(rate(N, await plainMqtt(broker.url, w, window)));
      stored.push(rate(N, await storeAndRelay(broker.url, w, 'NORMAL')));
      single.push(rate(N, await storeAndRelay(broker.url, w, 'NORMAL', 1)));
      ratios.push({ unbounded: stored.at(-1)! / unbounded.at(-1)!, window: stored.at(-1)! / windowed.at(-1)! });
      row(String(round), unbounded.at(-1)!, windowed.at(-1)!, stored.at(-1)!, single.at(-1)!, ratios.at(-1)!);
    }
    const ratio = { unbounded: median(ratios.map((r) => r.unbounded)), window: median(ratios.map((r) => r.window)) };
    row('median', median(unbounded), median(windowed), median(stored), median(single), ratio);
    console.log(
      `target: ratio >= 0.5 against the like-for-like baseline (window ${window}) ${verdict(ratio.window >= 0.5)} (${ratio.window.toFixed(2)}; ` +
        `${ratio.unbounded.toFixed(2)} against unbounded mqtt.js); >= 2,000 msg/s ${verdict(median(stored) >= 2_000)} ` +
        `(${fmt(median(single))} msg/s with a commit per reading)`,
    );

    const fullN = Math.min(N, 2_000);
    const normalUs = await commitCost('NORMAL', Math.min(N, 10_000), w);
    const fullUs = await commitCost('FULL', Math.min(N, 500), w);
    const fullRate = rate(fullN, await storeAndRelay(broker.url, workload(fullN), 'FULL', 1));
    console.log(`durability: one write committed alone ${normalUs.toFixed(0)} us with synchronous=NORMAL (shipped, group commit every 1 s), ${fullUs.toFixed(0)} us with FULL`);
    console.log(`            stored+relayed with FULL, a commit per reading: ${fmt(fullRate)} msg/s (${fmt(fullN)} messages)`);

    const o = await outage(broker, workload(OUTAGE_N));
    console.log(
      `outage: ${fmt(OUTAGE_N)} messages buffered while the broker was down (in ${fmt(o.enqueueMs)} ms); after it came back: ` +
        `reconnected in ${fmt(o.reconnectMs)} ms (backoff), all delivered in ${fmt(o.drainMs)} ms; target < 10 s ${verdict(o.drainMs < 10_000)}`,
    );
  } finally {
    await broker.dispose();
  }
}

await main();
