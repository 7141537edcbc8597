/**
 * A damaged database at start, made with real damage to a real database file: random bytes over some of
 * its pages, a truncated file, a file that is no database at all. The agent must start, keep the damaged
 * file (moved aside, byte for byte), and carry over the undelivered messages it can still read, exactly.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PayloadValidator } from '../../agent/mqtt/contract/schemas.js';
import { SqliteStore } from '../../agent/store/store.js';
import { AgentProcess } from '../e2e/agent-process.js';
import { freePort, Mosquitto } from '../helpers/mosquitto.js';
import { MqttSubscriber } from '../helpers/mqtt-subscriber.js';
import { captureLog } from '../helpers/log-capture.js';
import { nextTurn } from '../helpers/turn.js';

const ROWS = 3_000;
const PAGE = 1024;
const NOW = Date.parse('2026-03-01T12:00:00.000Z');
const config = { max_outbox_rows: 100_000, retention_days: 30 };

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'edge-recovery-'));
  path = join(dir, 'edge-agent.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const payload = (n: number) => JSON.stringify({ n, text: `reading ${n} `.repeat(12) });

/** A real database of the agent with ROWS undelivered messages, closed cleanly (everything in the main file). */
async function writeDatabase(topic = 'edge/pi/telemetry/temperature'): Promise<void> {
  const store = SqliteStore.open(path, { logger: captureLog().logger, config });
  for (let n = 1; n <= ROWS; n++) store.enqueue([{ topic, payload: payload(n) }]);
  await nextTurn();
  store.close();
}

/** Deterministic random bytes (xorshift), so a failure can be replayed. */
function randomBytes(seed: number, length: number): Buffer {
  let x = seed;
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function openAfterDamage() {
  const log = captureLog();
  const store = SqliteStore.open(path, { logger: log.logger, config, clock: () => NOW });
  return { store, log };
}

/** The outbox of the fresh database, and a check that every row is exactly what was written. */
function checkRecovered(store: SqliteStore): number[] {
  const rows = store.pendingOutbox(ROWS + 10);
  for (const row of rows) {
    const n = (JSON.parse(String(row.payload)) as { n: number }).n;
    expect(row).toMatchObject({ topic: 'edge/pi/telemetry/temperature', payload: payload(n), retain: false });
  }
  return rows.map((r) => r.id);
}

function integrity(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('integrity_check', { simple: true }) as string;
  } finally {
    db.close();
  }
}

const MOVED = 'edge-agent.db.corrupt-2026-03-01T12-00-00-000Z';

describe('a damaged database at start', () => {
  it('random bytes over pages: moved aside intact, a fresh database with every readable message, reported in the log and health', async () => {
    await writeDatabase();
    const bytes = readFileSync(path);
    const pages = bytes.length / PAGE;
    // Five pages of the second half (outbox rows), overwritten with noise.
    const victims = [0.55, 0.63, 0.71, 0.8, 0.92].map((f) => Math.floor(pages * f));
    victims.forEach((page, i) => randomBytes(0x9e3779b9 + i, PAGE).copy(bytes, page * PAGE));
    writeFileSync(path, bytes);

    const { store, log } = openAfterDamage();
    try {
      expect(store.recovery).toMatchObject({ at: NOW, moved_to: join(dir, MOVED), reason: expect.stringMatching(/^quick_check: /) });
      expect(readFileSync(join(dir, MOVED)).equals(bytes)).toBe(true); // kept, byte for byte
      const ids = checkRecovered(store);
      expect(ids.length).toBe(store.recovery!.recovered_outbox_rows);
      // Five damaged pages of about four rows each: the rest of their ranges is read around them.
      expect(ids.length).toBeGreaterThan(ROWS - 5 * 10);
      expect(ids.length).toBeLessThan(ROWS);
      expect(store.recovery!.unreadable_ranges).toBeGreaterThan(0);
      expect(log.matching(/^the database was damaged \(quick_check: .*\): moved aside to edge-agent\.db\.corrupt-2026-03-01T12-00-00-000Z, a fresh one started, \d+ undelivered message\(s\) recovered/)).toHaveLength(1);
      expect(store.health()).toMatchObject({ state: 'degraded', detail: expect.stringMatching(/^the database was damaged/), recovery: { recovered_outbox_rows: ids.length } });
      // The fresh database takes new messages after the recovered ones.
      expect(store.enqueue([{ topic: 'edge/pi/telemetry/temperature', payload: payload(ROWS + 1) }])).toBe(true);
      await nextTurn();
      expect(store.pendingOutbox(ROWS + 10).at(-1)!.id).toBeGreaterThan(Math.max(...ids));
    } finally {
      store.close();
    }
    expect(integrity(path)).toBe('ok');
  });

  it('a truncated file: the messages in what is left are carried over', async () => {
    await writeDatabase();
    const size = readFileSync(path).length;
    truncateSync(path, Math.floor(size * 0.6 / PAGE) * PAGE);
    const { store } = openAfterDamage();
    try {
      expect(store.recovery).not.toBeNull();
      const ids = checkRecovered(store);
      expect(ids.length).toBeGreaterThan(0);
      expect(ids.length).toBeLessThan(ROWS);
      expect(existsSync(join(dir, MOVED))).toBe(true);
    } finally {
      store.close();
    }
    expect(integrity(path)).toBe('ok');
  });

  it('a file that is no database: moved aside, a fresh database, nothing to carry over', () => {
    writeFileSync(path, 'these are not the bytes of a database\n'.repeat(200));
    const { store } = openAfterDamage();
    try {
      expect(store.recovery).toMatchObject({ reason: expect.stringMatching(/^SQLITE_NOTADB: /), recovered_outbox_rows: 0 });
      expect(readFileSync(join(dir, MOVED), 'utf8')).toMatch(/^these are not the bytes/);
      expect(store.enqueue([{ topic: 't', payload: 'x' }])).toBe(true);
    } finally {
      store.close();
    }
  });

  it('an intact database is left where it is', async () => {
    await writeDatabase();
    const { store } = openAfterDamage();
    try {
      expect(store.recovery).toBeNull();
      expect(store.outboxDepth()).toBe(ROWS);
      expect(store.health().state).toBe('ok');
    } finally {
      store.close();
    }
    expect(readdirSync(dir).filter((f) => f.includes('corrupt'))).toEqual([]);
  });
});

describe('the daemon with a damaged database', () => {
  it('starts, tells the owner over MQTT and in /health, and delivers the messages it recovered', async () => {
    const broker = await Mosquitto.start();
    const base = 'edge/recovery-pi';
    const sub = await MqttSubscriber.connect(broker.url, `${base}/#`);
    const http = await freePort();
    try {
      await writeDatabase(`${base}/telemetry/temperature`);
      const bytes = readFileSync(path);
      randomBytes(7, PAGE).copy(bytes, Math.floor(bytes.length / PAGE / 2) * PAGE);
      writeFileSync(path, bytes);
      writeFileSync(join(dir, 'config.yaml'), JSON.stringify({
        device_id: 'recovery-pi',
        data_dir: dir,
        camera: { driver: 'none' },
        sensor: { driver: 'none' },
        mqtt: { url: broker.url },
        http: { enabled: true, host: '127.0.0.1', port: http },
      }));
      const agent = AgentProcess.start(['run', '--config', join(dir, 'config.yaml')]);
      try {
        await agent.waitReady(60_000);
        await sub.waitForMessage((m) => m.topic === `${base}/alerts/store`, 60_000, 'the store alert');
        const [alert] = sub.json<{ moved_to: string; recovered_outbox_rows: number }>(`${base}/alerts/store`);
        expect(new PayloadValidator().problems('alerts/store', JSON.stringify(alert))).toEqual([]);
        expect(alert).toMatchObject({ kind: 'database_recovered', moved_to: expect.stringMatching(/^edge-agent\.db\.corrupt-/), reason: expect.stringMatching(/^(quick_check|SQLITE_CORRUPT): /) });
        expect(alert!.recovered_outbox_rows).toBeGreaterThan(0);
        // Every recovered message arrives, exactly as it was written.
        await sub.waitFor(() => new Set(sub.json<{ n: number }>(`${base}/telemetry/temperature`).map((p) => p.n)).size >= alert!.recovered_outbox_rows, 60_000, 'the recovered messages');
        for (const m of sub.on(`${base}/telemetry/temperature`)) {
          const n = (JSON.parse(m.payload.toString()) as { n: number }).n;
          expect(m.payload.toString()).toBe(payload(n));
        }
        const health = (await (await fetch(`http://127.0.0.1:${http}/health`)).json()) as { status: string; components: { store: { state: string; detail: string } } };
        expect(health.components.store).toMatchObject({ state: 'degraded', detail: expect.stringMatching(/^the database was damaged/) });
        expect(existsSync(join(dir, alert!.moved_to))).toBe(true);
      } finally {
        await agent.stop('SIGTERM');
      }
      expect(integrity(path)).toBe('ok');
    } finally {
      await sub.close();
      await broker.dispose();
    }
  });
});
