/**
 * `npm run bench:failover`: how long the relay takes to move to the second broker of `mqtt.url` when
 * the one it is connected to dies while messages flow, with the production reconnect backoff (1 s,
 * scaled by a random 0.5..1). Two local mosquittos; each round a fresh store + relay is connected to
 * the first, readings are produced every 10 ms, the first broker is killed (SIGKILL), and the round
 * measures the time until the relay is connected to the second, and until a reading made after the
 * kill has arrived through it. Prints the median and the worst. Environment: BENCH_ROUNDS (default 5).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connectAsync } from 'mqtt';
import { defaultConfig } from '../../agent/config/load.js';
import { silentLogger } from '../../agent/lib/log.js';
import { pollUntil } from '../../agent/lib/timing.js';
import { MessageBuilder } from '../../agent/mqtt/messages.js';
import { MqttRelay } from '../../agent/mqtt/relay.js';
import { EventBus } from '../../agent/runtime/event-bus.js';
import { SqliteStore } from '../../agent/store/store.js';
import { MosquittoProcess } from './mosquitto.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const DEVICE = 'bench-failover';

interface Round {
  connectedMs: number;
  deliveredMs: number;
}

async function round(index: number): Promise<Round> {
  const dir = mkdtempSync(join(tmpdir(), 'edge-bench-failover-'));
  const [first, second] = await Promise.all([MosquittoProcess.start(), MosquittoProcess.start()]);
  const logger = silentLogger();
  const bus = new EventBus(logger);
  const store = SqliteStore.open(join(dir, 'edge.db'), { logger, bus, config: { max_outbox_rows: 1_000_000, retention_days: 30 } });
  const relay = new MqttRelay({ store, config: { ...defaultConfig().mqtt, url: [first.url, second.url] }, deviceId: DEVICE, logger, bus });
  const messages = new MessageBuilder(relay.baseTopic, DEVICE);
  const watcher = await connectAsync(second.url, { clientId: `bench-watch-${index}` });
  await watcher.subscribeAsync(`${relay.baseTopic}/telemetry/#`, { qos: 1 });
  let seq = 0;
  const producer = setInterval(() => {
    const reading = { valid: true as const, celsius: seq++ / 100, ts: Date.now(), sensor: 'bench' };
    store.saveReading(reading, [messages.telemetry(reading)]);
  }, 10);
  try {
    await relay.start();
    await pollUntil(() => relay.connected, 10_000);
    if (!relay.connected) throw new Error('the relay did not connect to the first broker within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 300)); // messages flowing
    const killedAt = performance.now();
    const firstAfterKill = seq;
    let connectedMs = NaN;
    bus.on('mqtt.connection', relay, (e) => {
      if (e.connected && Number.isNaN(connectedMs)) connectedMs = performance.now() - killedAt;
    });
    const delivered = new Promise<number>((resolve) =>
      watcher.on('message', (_topic, payload) => {
        const celsius = (JSON.parse(payload.toString()) as { celsius: number }).celsius;
        if (Math.round(celsius * 100) >= firstAfterKill) resolve(performance.now() - killedAt);
      }),
    );
    await first.kill();
    const deliveredMs = await Promise.race([delivered, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no delivery through the second broker within 30 s')), 30_000))]);
    return { connectedMs, deliveredMs };
  } finally {
    clearInterval(producer);
    await relay.stop();
    await watcher.endAsync(true);
    store.close();
    await Promise.all([first.dispose(), second.dispose()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms, worst ${sorted.at(-1)!.toFixed(0)} ms`;
}

const rounds: Round[] = [];
for (let i = 0; i < ROUNDS; i++) rounds.push(await round(i));
console.log(`failover to the second broker after the first was killed (SIGKILL), ${ROUNDS} rounds, production backoff:`);
console.log(`  connected to the second broker: ${summary(rounds.map((r) => r.connectedMs))}`);
console.log(`  first reading made after the kill delivered through it: ${summary(rounds.map((r) => r.deliveredMs))}`);
