/**
 * `npm run eval:forecast`: replays datatraining.txt (and rooms made from it: scenarios.ts) through the
 * daemon's real telemetry path at high speed, as if it were a device's first days (replay.ts), and
 * prints per day the MAE of the active model, of persistence and of the calibrated candidate, when
 * calibration ran and whether it was promoted, the MAE over the days after promotion against the shipped
 * model, the days the fallback switched, the same rooms made from datatest.txt (never replayed, never
 * trained on) through the shipped and the calibrated model, and what each calibration cost.
 *
 * Options: --rooms office,cold,... (default all), --fixtures DIR (default ../shared/fixtures),
 * --keep (leave the replays' data folders for inspection).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultConfig } from '../../agent/config/load.js';
import { createLogger } from '../../agent/lib/log.js';
import { packageRoot } from '../../agent/lib/paths.js';
import type { CalibrationOutcome } from '../../agent/telemetry/calibration/service.js';
import { parseReplayCsv } from '../../drivers/sensors/replay-csv.js';
import { loadForecaster } from '../../models/forecast.js';
import type { Forecaster } from '../../models/types.js';
import { buildExamples } from '../train/forecast-data.js';
import { dailyFigures, DAY_MS, mae, scoredRows, servedCelsius, type ScoredRow } from './report.js';
import { replayRoom } from './replay.js';
import { SCENARIOS, timedValues, toCsv, type Scenario, type TimedValue } from './scenarios.js';

/**
 * A Pi 4 core against one core here: sysbench 1.0.20 `cpu --threads=1` gives 3,900 events per CPU second
 * on this machine and 1,478 events/s on a Raspberry Pi 4 (leoncode.co.uk/articles/raspberry-pi-benchmarks).
 * An integer benchmark: take the estimate as an order of magnitude for floating-point JavaScript.
 */
const PI4_SLOWDOWN = 2.6;

const { values } = parseArgs({ options: { rooms: { type: 'string' }, fixtures: { type: 'string' }, keep: { type: 'boolean', default: false } } });
const fixtures = values.fixtures ?? process.env.EDGE_AGENT_FIXTURES ?? join(packageRoot(), '..', 'shared', 'fixtures');
const wanted = values.rooms?.split(',') ?? SCENARIOS.map((s) => s.name);
const unknown = wanted.filter((name) => !SCENARIOS.some((s) => s.name === name));
if (unknown.length > 0) throw new Error(`unknown room ${unknown.join(', ')} (known: ${SCENARIOS.map((s) => s.name).join(', ')})`);

const f3 = (value: number | null) => (value === null ? '    -' : value.toFixed(3));
const when = (ts: number) => new Date(ts).toISOString().slice(5, 16).replace('T', ' ');
const pct = (value: number) => `${Math.round(value * 100)}%`;

function readRows(file: string): TimedValue[] {
  const path = join(fixtures, 'data', 'occupancy', file);
  return timedValues(parseReplayCsv(readFileSync(path, 'utf8'), 'Temperature', path));
}

function printDays(rows: readonly ScoredRow[], firstTs: number, calibrations: readonly CalibrationOutcome[]): void {
  console.log('  day  from (UTC)   scored  active  persistence  candidate  shipped  served  by persistence  calibration');
  for (const d of dailyFigures(rows, firstTs)) {
    const ran = calibrations.filter((c) => c.ts >= d.from && c.ts < d.from + DAY_MS).map((c) => `${c.outcome} at ${when(c.ts)}`);
    console.log(
      `  ${String(d.day).padStart(3)}  ${when(d.from)}  ${String(d.scored).padStart(6)}  ${f3(d.active)}  ${f3(d.persistence).padStart(11)}  ${f3(d.candidate).padStart(9)}  ${f3(d.shipped).padStart(7)}  ${f3(d.served).padStart(6)}  ${pct(d.fallback).padStart(14)}  ${ran.join(', ')}`,
    );
  }
}

function printCalibrations(calibrations: readonly CalibrationOutcome[]): void {
  for (const c of calibrations) {
    const cost = c.cost
      ? `; worker ${c.cost.cpu_ms === null ? '?' : Math.round(c.cost.cpu_ms)} ms CPU (Pi 4 core about ${c.cost.cpu_ms === null ? '?' : Math.round(c.cost.cpu_ms * PI4_SLOWDOWN)} ms), ${c.cost.wall_ms} ms wall, peak ${(c.cost.peak_bytes / 1e6).toFixed(1)} MB heap`
      : '';
    console.log(`  calibration at ${when(c.ts)}: ${c.outcome}${c.version ? ` ${c.version}` : ''}: ${c.reason} (${c.training_windows} windows trained on, ${c.holdout_windows} judged on${cost})`);
  }
}

function printAfterPromotion(rows: readonly ScoredRow[], calibrations: readonly CalibrationOutcome[]): void {
  const promoted = calibrations.find((c) => c.outcome === 'promoted');
  if (!promoted) {
    console.log('  after promotion: nothing was promoted (no candidate beat the active model by the margin on its held-out day)');
    return;
  }
  const after = rows.filter((r) => r.made >= promoted.ts);
  if (after.length === 0) {
    console.log(`  after promotion (${when(promoted.ts)}): no forecast matured before the end of the file`);
    return;
  }
  const [active, shipped, persistence] = [mae(after, (r) => r.modelCelsius), mae(after, (r) => r.shipped), mae(after, (r) => r.persistenceCelsius)];
  const verdict = active < shipped ? `${pct(1 - active / shipped)} below the shipped model` : `${pct(active / shipped - 1)} ABOVE the shipped model`;
  console.log(
    `  after promotion (${when(promoted.ts)} to the end, ${after.length} forecasts): calibrated ${f3(active)}, shipped ${f3(shipped)}, persistence ${f3(persistence)}: ${verdict}`,
  );
}

function printFallback(rows: readonly ScoredRow[], firstTs: number): void {
  const days = dailyFigures(rows, firstTs).filter((d) => d.fallback > 0);
  if (days.length === 0) {
    console.log('  fallback: never switched (the active model never lost to persistence over 24 h)');
    return;
  }
  const verdict = (served: number, persistence: number) => `served ${f3(served)} vs persistence ${f3(persistence)} ${served <= persistence + 1e-9 ? 'ok' : 'WORSE'}`;
  const checks = days.map((d) => {
    // From the day's first forecast by persistence on: what switching changed (before it the model served, as it had to).
    const ofDay = rows.filter((r) => r.day === d.day);
    const since = ofDay.slice(ofDay.findIndex((r) => r.served === 'persistence'));
    const fromSwitch = since.length < ofDay.length ? `; from the switch on ${verdict(mae(since, servedCelsius), mae(since, (r) => r.persistenceCelsius))}` : '';
    return `day ${d.day} (${pct(d.fallback)} by persistence): ${verdict(d.served, d.persistence)}${fromSwitch}`;
  });
  console.log(`  fallback switched on ${days.length} day(s): ${checks.join('; ')}`);
}

/** The same room made from datatest.txt: days neither the shipped model nor any candidate saw. */
async function printHeldOutFile(scenario: Scenario, shipped: Forecaster, calibrations: readonly CalibrationOutcome[]): Promise<void> {
  const minutes = new Map<number, number>();
  for (const v of scenario.transform(readRows('datatest.txt'))) minutes.set(Math.round(v.ts / 60_000), v.celsius);
  const readings = [...minutes].map(([minute, celsius]) => ({ minute, celsius }));
  const examples = buildExamples(readings, shipped.contract.window, shipped.contract.horizon_s / shipped.contract.step_s);
  const windows = examples.windows.map((w) => Array.from(w));
  const error = (predicted: readonly number[]) => predicted.reduce((sum, p, i) => sum + Math.abs(p - examples.targets[i]!), 0) / predicted.length;
  const promoted = calibrations.findLast((c) => c.outcome === 'promoted') ?? null;
  const calibrated = promoted ?? calibrations.findLast((c) => c.candidate_path !== null) ?? null;
  let line = `  datatest.txt made the same way (${windows.length} windows): shipped ${f3(error(await shipped.forecastBatch(windows)))}, persistence ${f3(error(windows.map((w) => w.at(-1)!)))}`;
  if (calibrated?.candidate_path) {
    const candidate = await loadForecaster(calibrated.candidate_path);
    line += `, calibrated ${f3(error(await candidate.forecastBatch(windows)))} (${promoted ? 'the promoted model' : 'the last candidate, not promoted'})`;
    await candidate.close();
  }
  console.log(line);
}

async function evaluate(scenario: Scenario, shipped: Forecaster): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `edge-agent-eval-${scenario.name}-`));
  try {
    const csv = join(dir, `${scenario.name}.csv`);
    writeFileSync(csv, toCsv(scenario.transform(readRows('datatraining.txt'))));
    const replay = await replayRoom(csv, dir, createLogger('silent'));
    const rows = await scoredRows(replay.store, replay.calibrations, replay.firstTs, shipped);
    replay.store.close();
    console.log(`\n${scenario.name}: ${scenario.description}`);
    console.log(`  replayed datatraining.txt in ${(replay.wallMs / 1000).toFixed(1)} s: ${rows.length} forecasts scored; MAE in °C`);
    printDays(rows, replay.firstTs, replay.calibrations);
    printCalibrations(replay.calibrations);
    printAfterPromotion(rows, replay.calibrations);
    printFallback(rows, replay.firstTs);
    console.log(`  whole replay: served ${f3(mae(rows, servedCelsius))}, shipped ${f3(mae(rows, (r) => r.shipped))}, persistence ${f3(mae(rows, (r) => r.persistenceCelsius))}`);
    await printHeldOutFile(scenario, shipped, replay.calibrations);
  } finally {
    if (values.keep) console.log(`  data kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

const { every_s, fallback, calibration } = defaultConfig().forecast;
console.log(
  `npm run eval:forecast: each room replayed through the daemon on the embedded defaults: a forecast every ${every_s} s; fallback once ${fallback.min_scored} ` +
    `forecasts are scored and the model is ${pct(fallback.margin)} worse than persistence over 24 h; calibration from day ${calibration.min_days}, promoted when ${pct(calibration.margin)} better`,
);
console.log('columns: active = the model in service when the forecast was made (scored also while persistence served); candidate = the latest calibrated candidate, whole days after the first calibration; served = what was published');
const shipped = await loadForecaster();
for (const scenario of SCENARIOS.filter((s) => wanted.includes(s.name))) await evaluate(scenario, shipped);
await shipped.close();
