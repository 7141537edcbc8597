/**
 * One room's replay through the daemon's own telemetry path, as if the file were the device's first
 * days: the replay sensor, the telemetry pipeline with self-scoring and the fallback, the shipped model,
 * the SQLite store, and the calibration with its worker thread, the model registry, the updater and the
 * OTA service, all built by the daemon's own setup functions from the embedded defaults. Only MQTT is
 * left out (messages stay in the outbox).
 *
 * Data time runs as fast as the machine goes; the one liberty taken is that the replay waits while a
 * calibration runs, as a device does in effect (a calibration takes a second, a reading comes every 10 s).
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfig } from '../../agent/config/load.js';
import type { AgentConfig } from '../../agent/config/types.js';
import type { Logger } from '../../agent/lib/log.js';
import { MessageBuilder } from '../../agent/mqtt/messages.js';
import { createOtaService } from '../../agent/ota/setup.js';
import { EventBus } from '../../agent/runtime/event-bus.js';
import { ModelSlot } from '../../agent/runtime/model-slot.js';
import type { CalibrationOutcome } from '../../agent/telemetry/calibration/service.js';
import { createCalibrationService } from '../../agent/telemetry/calibration/setup.js';
import { createTelemetryPipeline } from '../../agent/telemetry/setup.js';
import { SqliteStore } from '../../agent/store/store.js';
import { createTemperatureSensor, type Reading, type TemperatureSensor } from '../../drivers/sensors/index.js';
import { loadForecaster } from '../../models/forecast.js';
import type { Forecaster } from '../../models/types.js';

export interface ReplayResult {
  store: SqliteStore;
  config: AgentConfig;
  /** Each calibration, with a copy of its candidate (`candidate_path` points at the copy). */
  calibrations: CalibrationOutcome[];
  firstTs: number;
  wallMs: number;
}

/** The embedded defaults (what `npm start` runs), with the replay sensor on `csvPath` and everything under `dataDir`. */
export function replayConfig(csvPath: string, dataDir: string): AgentConfig {
  const defaults = defaultConfig();
  return {
    ...defaults,
    data_dir: dataDir,
    sensor: { ...defaults.sensor, driver: 'replay', file: csvPath, column: 'Temperature', speed: 100_000, loop: false, interval_s: 60 },
  };
}

export async function replayRoom(csvPath: string, dataDir: string, logger: Logger): Promise<ReplayResult> {
  const started = performance.now();
  const config = replayConfig(csvPath, dataDir);
  const bus = new EventBus(logger);
  const store = SqliteStore.open(join(dataDir, 'edge-agent.db'), { logger, bus, config: { ...config.store, max_outbox_rows: 10_000_000 } });
  const forecaster = new ModelSlot<Forecaster>(await loadForecaster());
  const relay = { baseTopic: 'edge/eval', subscribe: () => () => {}, publishDirect: async () => {} };
  // No MQTT here: the model commands have nobody to answer.
  const commands = { register: () => {}, release: () => {} };
  const ota = createOtaService({ config, logger, bus, store, relay, commands, messages: new MessageBuilder(relay.baseTopic, 'eval'), intruder: new ModelSlot(), forecaster });
  await ota.start();
  const calibration = createCalibrationService({ config, store, forecaster, bus, logger }, ota);
  if (!calibration) throw new Error('calibration is off with the embedded defaults');
  const calibrations: CalibrationOutcome[] = [];
  bus.on('forecast.calibration', calibrations, (outcome) => {
    // The next run overwrites the candidate file: keep a copy for the report.
    const copy = outcome.candidate_path && join(dataDir, `candidate-${calibrations.length + 1}.onnx`);
    if (copy) copyFileSync(outcome.candidate_path!, copy);
    calibrations.push({ ...outcome, candidate_path: copy });
  });
  const replay = await createTemperatureSensor(config.sensor, { logger });
  let firstTs: number | null = null;
  const finished = new Promise<void>((resolve) => {
    bus.on('reading', calibrations, (e) => {
      firstTs ??= e.ts;
      if (!e.valid) resolve();
    });
  });
  const sensor: TemperatureSensor = {
    name: replay.name,
    read: async (): Promise<Reading> => {
      await calibration.idle();
      return replay.read();
    },
    close: () => replay.close(),
  };
  const pipeline = createTelemetryPipeline({ config, sensor, forecaster, store, messages: new MessageBuilder(relay.baseTopic, 'eval'), bus, logger });
  await calibration.start();
  await pipeline.start();
  await finished;
  await pipeline.stop();
  await calibration.stop();
  await ota.stop();
  await sensor.close();
  await forecaster.close();
  return { store, config, calibrations, firstTs: firstTs!, wallMs: performance.now() - started };
}
