import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../agent/config/load.js';
import { DiagnosticsPublisher, readCpuTemperature } from '../../agent/daemon/diagnostics.js';
import { silentLogger } from '../../agent/lib/log.js';
import { PayloadValidator } from '../../agent/mqtt/contract/schemas.js';
import { MessageBuilder } from '../../agent/mqtt/messages.js';
import { EventBus } from '../../agent/runtime/event-bus.js';
import { SqliteStore } from '../../agent/store/store.js';
import type { DiagnosticsPayload } from '../../agent/mqtt/contract/topics.js';
import { nextTurn } from '../helpers/turn.js';

const contract = new PayloadValidator();

describe('readCpuTemperature', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'cpu-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads millidegrees as °C with one decimal, and null for a missing or unreadable file', async () => {
    writeFileSync(join(dir, 'temp'), '48312\n');
    expect(await readCpuTemperature(join(dir, 'temp'))).toBe(48.3);
    writeFileSync(join(dir, 'junk'), 'not a number\n');
    expect(await readCpuTemperature(join(dir, 'junk'))).toBeNull();
    expect(await readCpuTemperature(join(dir, 'absent'))).toBeNull();
    expect(await readCpuTemperature(dir)).toBeNull(); // a folder
  });
});

describe('DiagnosticsPublisher', () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'diag-'));
    store = SqliteStore.open(join(dir, 'edge-agent.db'), { logger: silentLogger(), config: defaultConfig().store });
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function diagnosticsIn(rows: { topic: string; payload: string | Buffer; retain: boolean }[]) {
    return rows.filter((r) => r.topic === 'edge/pi/diagnostics');
  }

  it('queues a retained, contract-valid <base>/diagnostics message with what the bus reported and the outbox holds', async () => {
    const bus = new EventBus(silentLogger());
    let now = 1_700_000_000_000;
    writeFileSync(join(dir, 'temp'), '51000');
    const publisher = new DiagnosticsPublisher({
      bus,
      store,
      messages: new MessageBuilder('edge/pi', 'pi'),
      intervalMs: 60_000,
      cpuTemperatureFile: join(dir, 'temp'),
      logger: silentLogger(),
      clock: () => now,
    });
    store.enqueue([{ topic: 'edge/pi/telemetry/temperature', payload: '{}' }]);
    await nextTurn();
    const waitingSince = store.pendingOutbox(1)[0]!.created_at;
    now = waitingSince + 42_000;

    await publisher.start();
    await nextTurn();
    const first = diagnosticsIn(store.pendingOutbox(100));
    expect(first).toHaveLength(1);
    expect(first[0]!.retain).toBe(true);
    expect(contract.problems('diagnostics', first[0]!.payload)).toEqual([]);
    expect(JSON.parse(String(first[0]!.payload))).toMatchObject({
      device: 'pi',
      outbox: { depth: 1, oldest_age_s: 42 },
      last_inference_ms: null,
      frames_dropped: 0,
      cpu_temperature_c: 51,
      forecast_mae_celsius: null,
    });

    bus.emit('inference', { model: 'yolov8n', version: '1', ms: 123.456 });
    bus.emit('frame.dropped', { camera: 'rpicam', count: 3 });
    bus.emit('frame.dropped', { camera: 'rpicam', count: 2 });
    const window = { mae_celsius: 0.42, persistence_mae_celsius: 0.5, skill: 0.16, scored: 10 };
    bus.emit('forecast.score', { model: { name: 'f', version: '1' }, last_24h: window, last_7d: window, fallback: { active: false, reason: null }, ts: now });
    rmSync(join(dir, 'temp'));
    await publisher.publish();
    await nextTurn();
    const second = JSON.parse(String(diagnosticsIn(store.pendingOutbox(100))[1]!.payload)) as DiagnosticsPayload;
    expect(second).toMatchObject({ last_inference_ms: 123.5, frames_dropped: 5, cpu_temperature_c: null, forecast_mae_celsius: 0.42 });
    expect(second.outbox.depth).toBe(2); // the first diagnostics message waits too
    expect(contract.problems('diagnostics', JSON.stringify(second))).toEqual([]);

    await publisher.stop();
    bus.emit('frame.dropped', { camera: 'rpicam', count: 7 });
    await publisher.publish();
    await nextTurn();
    expect(JSON.parse(String(diagnosticsIn(store.pendingOutbox(100))[2]!.payload)).frames_dropped).toBe(5);
  });

  it('publishes on its interval', async () => {
    const publisher = new DiagnosticsPublisher({
      bus: new EventBus(silentLogger()),
      store,
      messages: new MessageBuilder('edge/pi', 'pi'),
      intervalMs: 20,
      cpuTemperatureFile: join(dir, 'absent'),
      logger: silentLogger(),
    });
    await publisher.start();
    try {
      await expect.poll(() => diagnosticsIn(store.pendingOutbox(100)).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    } finally {
      await publisher.stop();
    }
  });
});
