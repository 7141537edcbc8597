/**
 * On-device calibration as the daemon wires it: the real worker thread (compiled, as the daemon runs
 * it), real ONNX candidates judged by onnxruntime against the real shipped model, the real registry,
 * updater and OTA service; only MQTT is faked at its boundary. The readings' timestamps are the clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { MessageBuilder } from '../../agent/mqtt/messages.js';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../agent/config/load.js';
import type { AgentConfig } from '../../agent/config/types.js';
import { packageRoot } from '../../agent/lib/paths.js';
import { silentLogger } from '../../agent/lib/log.js';
import { createOtaService, createUpdater } from '../../agent/ota/setup.js';
import type { OtaService } from '../../agent/ota/service.js';
import { EventBus } from '../../agent/runtime/event-bus.js';
import { ModelSlot } from '../../agent/runtime/model-slot.js';
import type { SqliteStore } from '../../agent/store/store.js';
import { calibrationData } from '../../agent/telemetry/calibration/dataset.js';
import { runCalibration, type WorkerReply } from '../../agent/telemetry/calibration/job.js';
import { predictRoom, fitRoomModel } from '../../agent/telemetry/calibration/room-model.js';
import { workerRunner, type WorkerRunner } from '../../agent/telemetry/calibration/run-worker.js';
import { CALIBRATION_STATE, type CalibrationOutcome, type CalibrationService } from '../../agent/telemetry/calibration/service.js';
import { calibrationOff, createCalibrationService } from '../../agent/telemetry/calibration/setup.js';
import { loadForecaster } from '../../models/forecast.js';
import { readOnnxMetadata } from '../../models/onnx-proto.js';
import type { Forecaster } from '../../models/types.js';
import { HOUR, MINUTE, openStore, T0, writeLinearForecaster } from './rig.js';

const DAY = 24 * HOUR;
/** The worker as the daemon runs it: compiled (the suite's global setup builds dist/). */
const compiledWorker = workerRunner(pathToFileURL(join(packageRoot(), 'dist', 'agent', 'telemetry', 'calibration', 'worker.js')));

/**
 * A room the shipped model never saw: an air conditioner cycling every 90 minutes around 24 °C, with
 * sensor noise. The hour's shape predicts it well; the office's habits do not.
 */
function cyclingRoom(days: number, from = T0): { ts: number; celsius: number }[] {
  let seed = 12345;
  const noise = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return (seed / 2147483648 - 0.5) * 0.1;
  };
  return Array.from({ length: days * 24 * 60 }, (_, i) => ({
    ts: from + i * MINUTE,
    celsius: Math.round((24 + Math.sin((2 * Math.PI * i) / 90) + noise()) * 100) / 100,
  }));
}

interface Rig {
  dir: string;
  store: SqliteStore;
  slot: ModelSlot<Forecaster>;
  bus: EventBus;
  ota: OtaService;
  calibration: CalibrationService;
  outcomes: CalibrationOutcome[];
  config: AgentConfig;
  /**
   * Stores each reading and announces it on the bus, as the telemetry pipeline does; a calibration it
   * starts finishes before the next reading (on a device it takes seconds, readings come minutes apart).
   */
  feed(readings: { ts: number; celsius: number }[]): Promise<void>;
}

const rigs: Rig[] = [];
afterEach(async () => {
  for (const rig of rigs.splice(0)) {
    await rig.calibration.stop();
    await rig.ota.stop();
    rig.store.close();
    await rig.slot.close();
    rmSync(rig.dir, { recursive: true, force: true });
  }
});

async function calibrationRig(options: { runWorker?: WorkerRunner; dir?: string; calibration?: Partial<AgentConfig['forecast']['calibration']> } = {}): Promise<Rig> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'edge-agent-calibration-'));
  const defaults = defaultConfig();
  const config: AgentConfig = {
    ...defaults,
    data_dir: dir,
    forecast: { ...defaults.forecast, calibration: { ...defaults.forecast.calibration, min_days: 2, ...options.calibration } },
  };
  const store = openStore(join(dir, 'edge-agent.db'));
  const bus = new EventBus(silentLogger());
  const slot = new ModelSlot<Forecaster>(await loadForecaster());
  const logger = silentLogger();
  // MQTT is the boundary: the relay's subscribe and direct publish do nothing here; replies and model info go to the outbox.
  const relay = { baseTopic: 'edge/dev', subscribe: () => () => {}, publishDirect: async () => {} };
  const commands = { register: () => {}, release: () => {} };
  const ota = createOtaService({ config, logger, bus, store, relay, commands, messages: new MessageBuilder(relay.baseTopic, 'dev'), intruder: new ModelSlot(), forecaster: slot });
  await ota.start();
  const calibration = createCalibrationService({ config, store, forecaster: slot, bus, logger }, ota, { runWorker: options.runWorker ?? compiledWorker })!;
  await calibration.start();
  const outcomes: CalibrationOutcome[] = [];
  bus.on('forecast.calibration', {}, (o) => outcomes.push(o));
  const feed = async (readings: { ts: number; celsius: number }[]) => {
    for (const { ts, celsius } of readings) {
      store.saveReading({ valid: true, celsius, ts, sensor: 'list' }, []);
      bus.emit('reading', { valid: true, celsius, ts, sensor: 'list' });
      if (calibration.health().running) await calibration.idle();
    }
  };
  const rig = { dir, store, slot, bus, ota, calibration, outcomes, config, feed };
  rigs.push(rig);
  return rig;
}

const modelInfo = (store: SqliteStore) =>
  store
    .pendingOutbox(100_000)
    .filter((r) => r.topic === 'edge/dev/models/forecast')
    .map((r) => ({ retain: r.retain, ...(JSON.parse(String(r.payload)) as { name: string; version: string }) }));

describe('the calibration data', () => {
  it('holds out the last day and trains on nothing that shares a reading with it, skipping gappy windows', () => {
    const readings = cyclingRoom(3).filter((r) => r.ts < T0 + 30 * HOUR || r.ts > T0 + 32 * HOUR);
    const end = readings.at(-1)!.ts;
    const data = calibrationData(readings, T0, end, { window: 60, step_s: 60, horizon_s: 3600 });
    expect(data.holdout.span).toEqual([end - DAY + MINUTE, end]);
    expect(data.holdout.count).toBe(24 * 60);
    // The last training target comes before the first reading of the first held-out window (60 readings and an hour before its target).
    expect(data.training.span![1]).toBeLessThan(data.holdout.span![0] - 119 * MINUTE);
    // The two-hour outage: no window across it, no target in it (without it, 2641 windows end early enough to train on).
    expect(data.training.count).toBeLessThan(2641 - 120);
    expect(data.training.count).toBeGreaterThan(2641 - 2 * 180);
    // A window is the readings themselves where there is one each step, with holes filled in where not.
    const window = new Float64Array(60);
    data.training.window(0, window);
    expect(Array.from(window)).toEqual(readings.slice(0, 60).map((r) => r.celsius));
    expect(data.training.target(0)).toBe(readings[119]!.celsius);
    expect(data.steps).toBe(3 * 24 * 60);
    expect(data.stepsWithReading).toBe(readings.length);
  });

  it('fits a room model whose ONNX file serves with the forecaster contract and reproduces the fit', async () => {
    const readings = cyclingRoom(3);
    const job = {
      dbPath: '',
      fromTs: T0,
      endTs: readings.at(-1)!.ts,
      spec: { window: 60, step_s: 60, horizon_s: 3600 },
      holdoutMs: DAY,
      version: 'room-test',
      minTrainingWindows: 720,
      minHoldoutWindows: 360,
    };
    const fit = runCalibration(readings, job);
    const dir = mkdtempSync(join(tmpdir(), 'edge-agent-room-'));
    try {
      const path = join(dir, 'room.onnx');
      await writeFile(path, fit.onnx);
      const forecaster = await loadForecaster(path);
      const metadata = readOnnxMetadata(await readFile(path));
      expect(forecaster.contract).toEqual({ window: 60, step_s: 60, horizon_s: 3600, unit: 'Celsius' });
      expect(forecaster.info).toMatchObject({ name: 'temperature-forecast-room', version: 'room-test' });
      expect(metadata.method).toMatch(/^Ridge regression/);
      expect(metadata.validation_data).toMatch(/^1440 windows whose target is from .* \(the last day, not trained on\)$/);
      const data = calibrationData(readings, T0, job.endTs, job.spec);
      const model = fitRoomModel(data.training, 60);
      const windows = Array.from({ length: 50 }, (_, i) => {
        const values = new Float64Array(60);
        data.holdout.window(i, values);
        return Array.from(values);
      });
      const served = await forecaster.forecastBatch(windows);
      windows.forEach((w, i) => expect(Math.abs(served[i]! - predictRoom(model, w))).toBeLessThan(0.006));
      await forecaster.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(() => runCalibration(readings.slice(0, 30 * 60), { ...job, endTs: T0 + 30 * HOUR - MINUTE })).toThrow(
      'too few gap-free windows to calibrate: 121 to train on (at least 720) and 1440 in the last day (at least 360); 1800 of 1800 steps have a reading',
    );
  });
});

describe('CalibrationService', () => {
  it('after min_days fits a room model in a worker, promotes it through the registry when it wins, and a rollback undoes it', async () => {
    const rig = await calibrationRig();
    const room = cyclingRoom(3);
    await rig.feed(room.slice(0, 2 * 24 * 60 - 1));
    expect(rig.outcomes).toEqual([]);
    expect(rig.calibration.health()).toMatchObject({ running: false, next_at: new Date(T0 + 2 * DAY).toISOString() });
    await rig.feed(room.slice(2 * 24 * 60 - 1));
    expect(rig.outcomes).toHaveLength(1);
    const [outcome] = rig.outcomes;
    const version = `room-${new Date(T0 + 2 * DAY).toISOString().slice(0, 16).replace(/[-:]/g, '')}Z`;
    expect(outcome).toMatchObject({ ts: T0 + 2 * DAY, outcome: 'promoted', version, active: { name: 'temperature-forecast', version: '1.1.0' }, holdout_windows: 1440 });
    expect(outcome!.reason).toMatch(/^better by \d+%: /);
    expect(outcome!.candidate_mae!).toBeLessThan(0.95 * outcome!.active_mae!);
    expect(outcome!.candidate_mae!).toBeLessThan(outcome!.persistence_mae!);
    expect(outcome!.cost).toMatchObject({ cpu_ms: expect.any(Number), peak_bytes: expect.any(Number) });

    // Installed and active like any update, the shipped model registered first so that rollback has somewhere to go.
    const active = await rig.ota.active('forecast');
    expect(active).toMatchObject({ manifest: { name: 'temperature-forecast-room', version }, previous: ['1.1.0'] });
    expect(rig.slot.current()!.info).toMatchObject({ name: 'temperature-forecast-room', version });
    expect(modelInfo(rig.store).at(-1)).toMatchObject({ retain: true, name: 'temperature-forecast-room', version });
    // The next one is due a week later (on data time); the outcome survives a restart.
    expect(rig.calibration.health()).toMatchObject({ last: { outcome: 'promoted', version }, next_at: new Date(T0 + 9 * DAY).toISOString() });
    expect(rig.store.loadState(CALIBRATION_STATE)).toMatchObject({ outcome: 'promoted', version });

    // `cmd/model-rollback` runs the updater's rollback.
    const { updater } = createUpdater(rig.config, { logger: silentLogger(), slots: { forecast: rig.slot } });
    const back = await updater.rollback('forecast');
    expect(back.manifest).toMatchObject({ name: 'temperature-forecast', version: '1.1.0' });
    expect(rig.slot.current()!.info).toMatchObject({ name: 'temperature-forecast', version: '1.1.0' });
  });

  it('never promotes a candidate that loses to the active model or to persistence, nor one whose forecasts are not numbers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-agent-calibration-'));
    // In this room the shipped model is off by about 2 °C and persistence by 1.1 °C: "3 °C warmer" loses to
    // both, "1 °C warmer" beats the model but not persistence.
    const candidates = await Promise.all(
      [3, 1, Number.NaN].map(async (bias, i) => readFile(await writeLinearForecaster(dir, `bad-${i}.onnx`, { bias, name: 'temperature-forecast-room' }))),
    );
    // The real worker fits; its candidate is swapped for a broken one, as a bug in the fit would make it.
    const swapping: WorkerRunner = async (job, signal) => {
      const reply: WorkerReply = await compiledWorker(job, signal);
      return reply.ok ? { ...reply, fit: { ...reply.fit, onnx: candidates.shift()! } } : reply;
    };
    const rig = await calibrationRig({ runWorker: swapping, dir });
    await rig.feed(cyclingRoom(5));
    expect(rig.outcomes.map((o) => [o.ts, o.outcome])).toEqual([
      [T0 + 2 * DAY, 'rejected'],
      [T0 + 3 * DAY, 'rejected'],
      [T0 + 4 * DAY, 'rejected'],
    ]);
    const [worse, notPersistence, nan] = rig.outcomes.map((o) => o.reason);
    expect(worse).toMatch(/^not at least 5% better than the active model: \d\.\d{3} °C against \d\.\d{3} °C for temperature-forecast 1\.1\.0 and \d\.\d{3} °C for persistence/);
    expect(notPersistence).toMatch(/^not better than persistence: /);
    expect(nan).toBe('1440 of 1440 of its forecasts on the held-out day are not numbers');
    expect(await rig.ota.active('forecast')).toBeNull();
    expect(rig.slot.current()!.info).toMatchObject({ name: 'temperature-forecast', version: '1.1.0' });
  });

  it('keeps the active model where it is better: the office the shipped model was trained on', async () => {
    const rig = await calibrationRig();
    const { parseOccupancyCsv } = await import('../../scripts/train/forecast-data.js');
    const { occupancyCsv } = await import('../models/forecast-windows.js');
    const office = parseOccupancyCsv(occupancyCsv('datatraining.txt')).map((r) => ({ ts: r.minute * MINUTE, celsius: r.celsius }));
    await rig.feed(office.filter((r) => r.ts <= office[0]!.ts + 3 * DAY));
    expect(rig.outcomes.map((o) => o.outcome)).toEqual(['rejected', 'rejected']);
    for (const o of rig.outcomes) expect(o.candidate_mae!).toBeGreaterThan(0.95 * o.active_mae!);
    expect(await rig.ota.active('forecast')).toBeNull();
  });

  it('stays off, saying why, where it must not promote', () => {
    const defaults = defaultConfig();
    expect(calibrationOff(defaults)).toBeNull();
    expect(calibrationOff({ ...defaults, forecast: { ...defaults.forecast, model: '/models/mine.onnx' } })).toMatch(/forecast.model names a model file/);
    expect(calibrationOff({ ...defaults, ota: { ...defaults.ota, public_key: 'key.pem' } })).toMatch(/cannot be signed/);
    expect(calibrationOff({ ...defaults, forecast: { ...defaults.forecast, calibration: { ...defaults.forecast.calibration, enabled: false } } })).toMatch(/enabled is false/);
  });
});
