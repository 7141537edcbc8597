/**
 * On-device calibration: once the store holds `min_days` of this room's readings, a worker thread fits a
 * room model on all of them but the last day (job.ts); the agent runs the candidate and the active model
 * on that day with onnxruntime (judge.ts) and promotes the candidate through the model registry, as an
 * update (installed, validated, swapped in, announced on `<base>/models/forecast`, undone by
 * `cmd/model-rollback`), only when it wins by `margin`. It runs again `every_days` after a promotion,
 * `retry_days` after a loss or a failure.
 *
 * The schedule runs on data time (the readings' timestamps, from the bus), like the forecasts, so a
 * replay calibrates as a device would; the last outcome is saved in the store and survives restarts.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Forecaster } from '../../../models/types.js';
import type { CalibrationConfig } from '../../config/types.js';
import type { Logger } from '../../lib/log.js';
import type { ModelRef } from '../../mqtt/contract/topics.js';
import type { ActiveModel } from '../../ota/registry.js';
import type { UpdateRequest } from '../../ota/updater.js';
import type { EventBus } from '../../runtime/event-bus.js';
import type { ModelSlot } from '../../runtime/model-slot.js';
import type { ComponentHealth, Service } from '../../runtime/service.js';
import type { SqliteStore } from '../../store/store.js';
import { HOLDOUT_MS } from './dataset.js';
import type { CalibrationCost, CalibrationJob } from './job.js';
import { heldOutDay, judge, type Verdict } from './judge.js';
import { ROOM_MODEL_NAME } from './room-model.js';
import { workerRunner, type WorkerRunner } from './run-worker.js';

const DAY_MS = 86_400_000;
/** The store key of the last outcome. */
export const CALIBRATION_STATE = 'forecast_calibration';
/** Half a day of windows to train on and a quarter of one to judge on, at the least: less says nothing. */
const MIN_TRAINING_WINDOWS = 720;
const MIN_HOLDOUT_WINDOWS = 360;

/** How a model made on the device enters service: the OTA path (agent/ota/service.ts). */
export interface Promoter {
  /** Installs, validates and activates a model file like any update, and announces it. */
  update(request: UpdateRequest): Promise<ActiveModel>;
  /** The registry's active forecast version (null: a shipped or configured model serves). */
  active(): Promise<ActiveModel | null>;
}

export interface CalibrationOutcome {
  /** Data time the calibration ran at. */
  ts: number;
  outcome: 'promoted' | 'rejected' | 'failed';
  reason: string;
  /** The candidate's version (null when none was fitted). */
  version: string | null;
  /** The model it was judged against. */
  active: ModelRef | null;
  candidate_mae: number | null;
  active_mae: number | null;
  persistence_mae: number | null;
  training_windows: number;
  holdout_windows: number;
  /** Its ONNX file, kept until the next calibration (null when none was fitted). */
  candidate_path: string | null;
  cost: CalibrationCost | null;
}

export interface CalibrationDeps {
  config: CalibrationConfig;
  forecaster: Pick<ModelSlot<Forecaster>, 'current' | 'use'>;
  store: Pick<SqliteStore, 'path' | 'firstValidReadingTs' | 'loadState' | 'saveState'>;
  promoter: Promoter;
  /** Opens a candidate as the pipeline would (the OTA loader). */
  loadCandidate: (path: string) => Promise<Forecaster>;
  /** Where the last candidate is kept: `<data_dir>/calibration`. */
  workDir: string;
  bus: EventBus;
  logger: Logger;
  runWorker?: WorkerRunner;
}

/** A registry version for a candidate made at data time `ts`: `room-20150207T1751Z`. */
export function candidateVersion(ts: number): string {
  return `room-${new Date(ts).toISOString().slice(0, 16).replace(/[-:]/g, '')}Z`;
}

type Fitted = Omit<CalibrationOutcome, 'ts' | 'outcome' | 'reason' | 'active'> & { verdict: Verdict | null };

export class CalibrationService implements Service {
  readonly name = 'calibration';
  private readonly aborter = new AbortController();
  private running: Promise<void> | null = null;
  private last: CalibrationOutcome | null;
  private firstTs: number | null = null;
  private lastReadingTs: number | null = null;

  constructor(private readonly deps: CalibrationDeps) {
    this.last = savedOutcome(deps.store.loadState(CALIBRATION_STATE));
  }

  start(): Promise<void> {
    this.deps.bus.on('reading', this, (e) => {
      if (e.valid) this.onReading(e.ts);
    });
    return Promise.resolve();
  }

  /** Stops listening and cancels a run in flight (its worker is terminated; nothing is promoted). */
  async stop(): Promise<void> {
    this.deps.bus.removeListeners(this);
    this.aborter.abort();
    await this.running;
  }

  /** Resolves once no calibration is running (the replay of `npm run eval:forecast` waits on it). */
  async idle(): Promise<void> {
    await this.running;
  }

  health(): ComponentHealth {
    const { last, firstTs, lastReadingTs } = this;
    const days = firstTs !== null && lastReadingTs !== null ? Math.round(((lastReadingTs - firstTs) / DAY_MS) * 10) / 10 : 0;
    const next = this.nextDueTs();
    return {
      state: 'ok',
      running: this.running !== null,
      days_of_readings: days,
      next_at: next === null ? null : new Date(next).toISOString(),
      last: last && { at: new Date(last.ts).toISOString(), outcome: last.outcome, version: last.version, reason: last.reason },
    };
  }

  private onReading(ts: number): void {
    this.lastReadingTs = ts;
    this.firstTs ??= this.deps.store.firstValidReadingTs();
    const due = this.nextDueTs();
    if (this.running || due === null || ts < due) return;
    this.running = this.calibrate(ts).finally(() => {
      this.running = null;
    });
  }

  /** Data time of the next calibration: `min_days` after the first reading, then after the last run. */
  private nextDueTs(): number | null {
    const { min_days, every_days, retry_days } = this.deps.config;
    if (this.firstTs === null) return null;
    const first = this.firstTs + min_days * DAY_MS;
    const last = this.last;
    // A last run "in the future" means the clock went back (a replay started over): it does not count.
    if (!last || (this.lastReadingTs !== null && last.ts > this.lastReadingTs)) return first;
    return Math.max(first, last.ts + (last.outcome === 'promoted' ? every_days : retry_days) * DAY_MS);
  }

  private async calibrate(ts: number): Promise<void> {
    const { logger, bus, store } = this.deps;
    const active = this.deps.forecaster.current();
    const activeRef = active ? { name: active.info.name, version: active.info.version } : null;
    let outcome: CalibrationOutcome;
    try {
      if (!active) throw new Error('no forecast model is loaded to compare with');
      logger.info({ at: new Date(ts).toISOString(), active: activeRef }, 'forecast calibration: fitting a model for this room');
      const fitted = await this.fitAndJudge(ts, active);
      const verdict = fitted.verdict!;
      outcome = { ts, outcome: verdict.promote ? 'promoted' : 'rejected', reason: verdict.reason, active: activeRef, ...withoutVerdict(fitted) };
      if (verdict.promote) await this.promote(fitted, active);
    } catch (err) {
      const reason = (err as Error).message;
      outcome = { ts, outcome: 'failed', reason, active: activeRef, ...(err instanceof FittedError ? withoutVerdict(err.fitted) : emptyFit()) };
    }
    if (this.aborter.signal.aborted) return;
    this.last = outcome;
    store.saveState(CALIBRATION_STATE, outcome);
    const fields = { version: outcome.version, candidate_mae: outcome.candidate_mae, active_mae: outcome.active_mae, persistence_mae: outcome.persistence_mae, cost: outcome.cost };
    if (outcome.outcome === 'promoted') logger.info(fields, `forecast calibration: promoted ${ROOM_MODEL_NAME} ${outcome.version}, ${outcome.reason}`);
    else if (outcome.outcome === 'rejected') logger.info(fields, `forecast calibration: kept ${activeRef?.name} ${activeRef?.version}; the candidate was ${outcome.reason}`);
    else logger.warn(fields, `forecast calibration failed: ${outcome.reason}`);
    bus.emit('forecast.calibration', outcome);
  }

  private async fitAndJudge(ts: number, active: Forecaster): Promise<Fitted> {
    const { store, config, workDir } = this.deps;
    const firstTs = store.firstValidReadingTs() ?? ts;
    const version = candidateVersion(ts);
    const job: CalibrationJob = {
      dbPath: store.path,
      fromTs: Math.max(firstTs, ts - config.max_days * DAY_MS),
      endTs: ts,
      spec: { window: active.contract.window, step_s: active.contract.step_s, horizon_s: active.contract.horizon_s },
      holdoutMs: HOLDOUT_MS,
      version,
      minTrainingWindows: MIN_TRAINING_WINDOWS,
      minHoldoutWindows: MIN_HOLDOUT_WINDOWS,
    };
    const reply = await (this.deps.runWorker ?? workerRunner())(job, this.aborter.signal);
    if (!reply.ok) throw new FittedError(reply.error, { ...emptyFit(), cost: reply.cost });
    const { fit, cost } = reply;
    await mkdir(workDir, { recursive: true });
    const path = join(workDir, 'candidate.onnx');
    await writeFile(path, fit.onnx);
    const fitted: Fitted = {
      version,
      candidate_mae: null,
      active_mae: null,
      persistence_mae: null,
      training_windows: fit.training.count,
      holdout_windows: fit.holdout.count,
      candidate_path: path,
      cost,
      verdict: null,
    };
    let candidate: Forecaster;
    try {
      candidate = await this.deps.loadCandidate(path);
    } catch (err) {
      throw new FittedError(`the candidate does not load: ${(err as Error).message}`, fitted);
    }
    try {
      const day = heldOutDay(fit.holdout.windows, fit.holdout.targets, job.spec.window);
      const verdict = await this.deps.forecaster.use((current) => judge(candidate, current, day, config.margin));
      return { ...fitted, candidate_mae: verdict.candidate_mae, active_mae: verdict.active_mae, persistence_mae: verdict.persistence_mae, verdict };
    } finally {
      await candidate.close();
    }
  }

  /**
   * Through the registry, as an update. Rollback needs a version to go back to: when the model serving
   * now is not in the registry (the shipped one), it is installed first, as what it is.
   */
  private async promote(fitted: Fitted, serving: Forecaster): Promise<void> {
    const { promoter } = this.deps;
    const path = fitted.candidate_path!;
    try {
      if (!(await promoter.active())) {
        const { name, version, sha256, path: servingPath } = serving.info;
        await promoter.update({ role: 'forecast', name, version, sha256, url: pathToFileURL(servingPath).href });
      }
      const sha256 = createHash('sha256').update(await readFile(path)).digest('hex');
      await promoter.update({ role: 'forecast', name: ROOM_MODEL_NAME, version: fitted.version!, sha256, url: pathToFileURL(path).href });
    } catch (err) {
      throw new FittedError(`the candidate won but was not installed: ${(err as Error).message}`, fitted);
    }
  }
}

/** A failure after a candidate was fitted: its figures still go in the outcome. */
class FittedError extends Error {
  constructor(
    message: string,
    readonly fitted: Fitted,
  ) {
    super(message);
  }
}

function emptyFit(): Fitted {
  return { version: null, candidate_mae: null, active_mae: null, persistence_mae: null, training_windows: 0, holdout_windows: 0, candidate_path: null, cost: null, verdict: null };
}

function withoutVerdict(fitted: Fitted): Omit<Fitted, 'verdict'> {
  const { verdict: _verdict, ...rest } = fitted;
  return rest;
}

const OUTCOMES: readonly unknown[] = ['promoted', 'rejected', 'failed'];

/** The outcome saved before a restart, or null when there is none or it is not one (an older or damaged value). */
function savedOutcome(value: unknown): CalibrationOutcome | null {
  const saved = value as Partial<CalibrationOutcome> | null;
  return saved && typeof saved.ts === 'number' && OUTCOMES.includes(saved.outcome) ? (saved as CalibrationOutcome) : null;
}
