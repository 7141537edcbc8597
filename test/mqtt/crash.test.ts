import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../agent/lib/paths.js';
import type { TemperatureTelemetryPayload } from '../../agent/mqtt/contract/topics.js';
import { BROKERS, type TestBroker } from '../helpers/brokers.js';
import { MqttSubscriber } from '../helpers/mqtt-subscriber.js';
import { firstArrivals, readingSeqs } from './rig.js';

const child = join(packageRoot(), 'test', 'mqtt', 'producer-child.mjs');
let dir: string;

beforeAll(() => {
  if (!existsSync(join(packageRoot(), 'dist', 'agent', 'mqtt', 'relay.js'))) throw new Error('dist/ is missing: the global setup compiles it (npm run build)');
  dir = mkdtempSync(join(tmpdir(), 'edge-crash-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function start(args: (string | number)[]): { proc: ChildProcess; lines: AsyncIterableIterator<string>; stderr: () => string } {
  const proc = spawn(process.execPath, [child, ...args.map(String)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { proc, lines: createInterface({ input: proc.stdout! })[Symbol.asyncIterator](), stderr: () => stderr };
}

describe.each(BROKERS)('a producer killed with SIGKILL while messages flow ($name)', ({ name, start: startBroker }) => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker.dispose();
  });

  it('loses nothing it committed: the restarted process delivers every stored message, in order', { timeout: 120_000 }, async () => {
    const db = join(dir, `${name}.db`);
    const deviceId = `crash-${process.pid}-${name}`;
    const sub = await MqttSubscriber.connect(broker.url, `edge/${deviceId}/telemetry/#`);
    try {
      // A small in-flight window keeps delivery behind production, so the kill finds a backlog.
      const producer = start([db, broker.url, deviceId, 0, 1_000_000, 5]);
      let committed = -1;
      for await (const line of producer.lines) {
        committed = Number(line.split(' ')[1]);
        if (committed >= 2_000) break;
      }
      producer.proc.kill('SIGKILL');
      await new Promise((resolve) => producer.proc.once('exit', resolve));
      expect(producer.stderr()).toBe('');

      const raw = new Database(db);
      const backlog = (raw.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
      raw.close();
      expect(backlog).toBeGreaterThan(500);

      const drainer = start([db, broker.url, deviceId, 0, 0, 100]);
      const { value } = await drainer.lines.next();
      expect(value).toBe('drained');
      await new Promise((resolve) => drainer.proc.once('exit', resolve));
      expect(drainer.proc.exitCode).toBe(0);

      // In order per topic: once reading `committed` is in, everything before it is too (checked below).
      const seqOf = (payload: Buffer) => readingSeqs([JSON.parse(payload.toString()) as TemperatureTelemetryPayload])[0]!;
      await sub.waitForMessage((m) => seqOf(m.payload) >= committed, 60_000, `readings 0..${committed}`);
      const seqs = firstArrivals(readingSeqs(sub.json<TemperatureTelemetryPayload>(`edge/${deviceId}/telemetry/temperature`)));
      // Everything committed arrived, in order; rows committed after the last progress line may follow.
      expect(seqs.slice(0, committed + 1)).toEqual([...Array(committed + 1).keys()]);
      expect(seqs.slice(committed + 1)).toEqual([...Array(seqs.length - committed - 1).keys()].map((i) => committed + 1 + i));
    } finally {
      await sub.close();
    }
  });
});
