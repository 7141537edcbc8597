// A producer process for the kill -9 test: it opens the store and the relay as the agent does (from
// the compiled dist/, like the real daemon) and saves readings in a loop, printing `committed <seq>`
// once each batch has been committed. With `--count 0` it only drains the outbox, then stops
// cleanly and prints `drained`.
//
//   node producer-child.mjs <db> <broker url> <device id> <first seq> <count> <max_inflight>
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(fileURLToPath(import.meta.url), '..', '..', '..', 'dist', 'agent');
const { SqliteStore } = await import(join(dist, 'store', 'store.js'));
const { MqttRelay } = await import(join(dist, 'mqtt', 'relay.js'));
const { MessageBuilder } = await import(join(dist, 'mqtt', 'messages.js'));
const { defaultConfig } = await import(join(dist, 'config', 'load.js'));
const { createLogger } = await import(join(dist, 'lib', 'log.js'));

const [db, url, deviceId, firstArg, countArg, inflightArg] = process.argv.slice(2);
const first = Number(firstArg);
const count = Number(countArg);
const logger = createLogger('warn', { write: (line) => process.stderr.write(line) });
const store = SqliteStore.open(db, { logger, config: { max_outbox_rows: 1_000_000, retention_days: 30 } });
const mqtt = { ...defaultConfig().mqtt, url, max_inflight: Number(inflightArg) };
const relay = new MqttRelay({ store, config: mqtt, deviceId, logger, backoff: { baseMs: 100, maxMs: 500 } });
const messages = new MessageBuilder(relay.baseTopic, deviceId);
await relay.start();

const BATCH = 100;
let seq = first;
function produce() {
  for (let i = 0; i < BATCH && seq < first + count; i++, seq++) {
    const reading = { valid: true, celsius: seq / 100, ts: Date.now(), sensor: 'sim' };
    if (!store.saveReading(reading, [messages.telemetry(reading)])) throw new Error(`saving reading ${seq} failed`);
  }
  // The store commits this job's writes in a microtask queued by the first of them (JobBatch): a line
  // written here, before that commit, would claim rows that a SIGKILL landing now would rightly lose. A
  // microtask queued after the writes runs after the commit.
  const last = seq - 1;
  queueMicrotask(() => process.stdout.write(`committed ${last}\n`));
  if (seq < first + count) setImmediate(produce);
}

if (count > 0) {
  produce();
} else {
  const timer = setInterval(async () => {
    if (store.outboxDepth() > 0) return;
    clearInterval(timer);
    await relay.stop();
    store.close();
    process.stdout.write('drained\n');
  }, 20);
}
