/**
 * `npm run eval:forecast-methods`: the measurements behind the forecaster's design choices
 * (docs/forecaster.md), each printed from the occupancy files:
 *   --methods       which calibration method: the room model (ridge on the hour's shape) against ridge
 *                   with the level and a refit of the shipped network, in each room of scenarios.ts,
 *                   after 3, 4 and 5 days, judged as the agent judges (the held-out day) and on the days
 *                   after and on datatest.txt made the same way; with the CPU time of each fit;
 *   --occupancy     whether the Occupancy column makes a better forecaster on datatest.txt;
 *   --level-margin  how far outside its training range the shipped network should still trust its level
 *                   input (the network is retrained, about 10 s).
 * Without an option: all three (several minutes: the network refits dominate).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../../agent/lib/paths.js';
import type { Examples } from '../../agent/telemetry/calibration/dataset.js';
import { fitLinear, meanAbsoluteError, predictLinear } from '../../agent/telemetry/calibration/linear.js';
import { fitRoomModel, predictRoom } from '../../agent/telemetry/calibration/room-model.js';
import { parseReplayCsv } from '../../drivers/sensors/replay-csv.js';
import { levelOf } from '../../models/forecast-graph.js';
import { loadForecaster } from '../../models/forecast.js';
import { buildExamples, type ForecastExamples, type TimedReading } from '../train/forecast-data.js';
import { foldEnsemble, predictFolded, trainMlp } from '../train/forecast-mlp.js';
import { featuresOf, fitNetwork, LEVEL_MARGIN_C, NETWORK_CONFIG, predictCelsius, TASK, trainForecaster } from '../train/forecast-training.js';
import { SCENARIOS, timedValues, type Scenario } from './scenarios.js';

/** A forecast for example `index`'s window (the shipped model's come precomputed, in one batch). */
type Predict = (window: Float64Array, index: number) => number;

const { values } = parseArgs({ options: { methods: { type: 'boolean' }, occupancy: { type: 'boolean' }, 'level-margin': { type: 'boolean' }, fixtures: { type: 'string' } } });
const all = !values.methods && !values.occupancy && !values['level-margin'];
const fixtures = values.fixtures ?? process.env.EDGE_AGENT_FIXTURES ?? join(packageRoot(), '..', 'shared', 'fixtures');
const DAY_MINUTES = 24 * 60;
const HORIZON = TASK.horizonS / TASK.stepS;
const f3 = (value: number) => value.toFixed(3);
const lastOf = (window: ArrayLike<number>) => window[window.length - 1] as number;

function fixtureText(file: string): string {
  return readFileSync(join(fixtures, 'data', 'occupancy', file), 'utf8');
}

/** A room's examples on the minute grid (readings stamped :59 belong to the next minute). */
function roomExamples(scenario: Scenario, file: string): ForecastExamples {
  const minutes = new Map<number, number>();
  for (const v of scenario.transform(timedValues(parseReplayCsv(fixtureText(file), 'Temperature', file)))) minutes.set(Math.round(v.ts / 60_000), v.celsius);
  const readings: TimedReading[] = [...minutes].map(([minute, celsius]) => ({ minute, celsius }));
  return buildExamples(readings, TASK.window, HORIZON);
}

function error(examples: ForecastExamples, predict: Predict, indices: readonly number[]): number {
  return meanAbsoluteError(indices.map((i) => predict(examples.windows[i]!, i)), indices.map((i) => examples.targets[i]!));
}

/** Some of the examples as the calibration's Examples. */
function asExamples(examples: ForecastExamples, indices: readonly number[]): Examples {
  return {
    count: indices.length,
    window: (i, into) => into.set(examples.windows[indices[i]!]!),
    target: (i) => examples.targets[indices[i]!]!,
    span: null,
  };
}

const candidates: [string, (examples: ForecastExamples, indices: number[]) => Predict][] = [
  ['room model: ridge on the shape (shipped)', (examples, indices) => {
    const model = fitRoomModel(asExamples(examples, indices), TASK.window);
    return (w) => predictRoom(model, w);
  }],
  ['ridge on the shape + the level', (examples, indices) => {
    const lasts = indices.map((i) => lastOf(examples.windows[i]!));
    const range: [number, number] = [Math.min(...lasts), Math.max(...lasts)];
    const rows = indices.map((i) => featuresOf(examples.windows[i]!, range));
    const model = fitLinear(rows, Float64Array.from(indices, (i) => examples.targets[i]! - lastOf(examples.windows[i]!)), { lambda: 1 });
    return (w) => lastOf(w) + predictLinear(model, featuresOf(w, range));
  }],
  ['the shipped network, refitted', (examples, indices) => {
    const model = fitNetwork(NETWORK_CONFIG)(examples, indices);
    return (w) => predictCelsius(model, w);
  }],
];

async function methods(): Promise<void> {
  const shipped = await loadForecaster();
  const shippedPredict = async (examples: ForecastExamples): Promise<Predict> => {
    const predictions = await shipped.forecastBatch(examples.windows.map((w) => Array.from(w)));
    return (_w, i) => predictions[i]!;
  };
  console.log('\n--methods: a candidate fitted on all but the last of N days, judged on that day against the shipped model (ratio: < 0.95 promotes),');
  console.log('then scored on the days after N and on datatest.txt made the same way (never seen by any of them). MAE in °C.');
  for (const scenario of SCENARIOS) {
    const training = roomExamples(scenario, 'datatraining.txt');
    const test = roomExamples(scenario, 'datatest.txt');
    const testAll = test.windows.map((_, i) => i);
    const [shippedTrain, shippedTest] = [await shippedPredict(training), await shippedPredict(test)];
    const first = training.lastMinutes[0]! - (TASK.window - 1);
    const day = (i: number) => Math.floor((training.lastMinutes[i]! + HORIZON - first) / DAY_MINUTES);
    console.log(`\n${scenario.name}: ${scenario.description}`);
    console.log(`  shipped model: datatest ${f3(error(test, shippedTest, testAll))}, persistence ${f3(error(test, lastOf, testAll))}`);
    for (const days of [3, 4, 5]) {
      const holdout = training.windows.map((_, i) => i).filter((i) => day(i) === days - 1);
      const after = training.windows.map((_, i) => i).filter((i) => day(i) >= days);
      // No training example shares a reading with the held-out day.
      const firstHeldOut = training.lastMinutes[holdout[0]!]! - (TASK.window - 1);
      const trainOn = training.windows.map((_, i) => i).filter((i) => training.lastMinutes[i]! + HORIZON < firstHeldOut);
      const shippedHoldout = error(training, shippedTrain, holdout);
      console.log(`  ${days} days (${trainOn.length} windows to train on): shipped ${f3(shippedHoldout)} on the held-out day, ${f3(error(training, shippedTrain, after))} after, persistence ${f3(error(training, lastOf, after))} after`);
      for (const [name, fit] of candidates) {
        const started = process.cpuUsage();
        const predict = fit(training, trainOn);
        const cpu = process.cpuUsage(started);
        const held = error(training, predict, holdout);
        console.log(
          `    ${name.padEnd(42)} held-out ${f3(held)} (ratio ${(held / shippedHoldout).toFixed(3)}), after ${f3(error(training, predict, after))}, datatest ${f3(error(test, predict, testAll))}; fit ${Math.round((cpu.user + cpu.system) / 1000)} ms CPU`,
        );
      }
    }
  }
  await shipped.close();
}

/** The Occupancy column (1 when people are in the office) at each minute of a file. */
function occupancyByMinute(file: string): Map<number, number> {
  const occupancy = new Map<number, number>();
  for (const row of parseReplayCsv(fixtureText(file), 'Occupancy', file)) if (row.value !== null) occupancy.set(Math.round(row.ts / 60_000), row.value);
  return occupancy;
}

function occupancy(): void {
  console.log('\n--occupancy: fitted on datatraining.txt, MAE on datatest.txt (°C); occupancy features: occupied at the last reading, share of the hour occupied');
  const files = ['datatraining.txt', 'datatest.txt'] as const;
  const [train, test] = files.map((file) => ({ examples: roomExamples(SCENARIOS[0]!, file), occupied: occupancyByMinute(file) }));
  const occupancyOf = (data: typeof train, i: number) => {
    const last = data!.examples.lastMinutes[i]!;
    let share = 0;
    for (let k = 0; k < TASK.window; k++) share += data!.occupied.get(last - k) ?? 0;
    return [data!.occupied.get(last) ?? 0, share / TASK.window];
  };
  const lasts = train!.examples.windows.map(lastOf);
  const range: [number, number] = [Math.min(...lasts), Math.max(...lasts)];
  const inputs: [string, (w: Float64Array) => number[]][] = [
    ['the shape', (w) => Array.from(featuresOf(w, range).subarray(0, TASK.window - 1))],
    ['the shape + the level', (w) => Array.from(featuresOf(w, range))],
  ];
  for (const [name, features] of inputs) {
    for (const withOccupancy of [false, true]) {
      const rowsOf = (data: typeof train) => data!.examples.windows.map((w, i) => Float64Array.from([...features(w), ...(withOccupancy ? occupancyOf(data, i) : [])]));
      const [trainRows, testRows] = [rowsOf(train), rowsOf(test)];
      const changes = Float64Array.from(train!.examples.windows, (w, i) => train!.examples.targets[i]! - lastOf(w));
      const ridge = fitLinear(trainRows, changes, { lambda: 1 });
      const net = foldEnsemble(Array.from({ length: NETWORK_CONFIG.members }, (_, m) => trainMlp(trainRows, changes, { ...NETWORK_CONFIG.mlp, seed: m + 1 })));
      const score = (predict: (row: Float64Array) => number) =>
        f3(meanAbsoluteError(testRows.map((row, i) => lastOf(test!.examples.windows[i]!) + predict(row)), test!.examples.targets));
      console.log(`  ${`${name}${withOccupancy ? ' + occupancy' : ''}`.padEnd(34)} ridge ${score((row) => predictLinear(ridge, row))}  network ${score((row) => predictFolded(net, row))}`);
    }
  }
}

function levelMargin(): void {
  console.log('\n--level-margin: the shipped network on the occupancy files moved by -4 to +4 °C, MAE (°C) by how far outside its range the level is still trusted');
  const trained = trainForecaster(fixtureText('datatraining.txt'), fixtureText('datatest.txt'));
  const { net, levelRange } = trained.model;
  const shifts = [-4, -2, -1, 0, 0.5, 1, 2, 4];
  console.log(`  margin (°C)    ${shifts.map((s) => `${s > 0 ? '+' : ''}${s}`.padStart(7)).join('')}     mean  | datatraining.txt moved -4, -2, +2, +4: mean`);
  for (const marginC of [0, 0.25, 0.5, 1, 2, Infinity]) {
    const predict = (w: Float64Array) => {
      const features = featuresOf(w, levelRange);
      features[w.length - 1] = levelOf(lastOf(w), { range: levelRange, marginC });
      return lastOf(w) + predictFolded(net, features);
    };
    const moved = (examples: ForecastExamples, shift: number) =>
      meanAbsoluteError(examples.windows.map((w) => predict(w.map((v) => v + shift))), examples.targets.map((v) => v + shift));
    const onTest = shifts.map((s) => moved(trained.test, s));
    const onTraining = [-4, -2, 2, 4].map((s) => moved(trained.training, s));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const label = `${marginC === Infinity ? 'never (1.0.0)' : String(marginC)}${marginC === LEVEL_MARGIN_C ? ' (shipped)' : ''}`;
    console.log(`  ${label.padEnd(15)}${onTest.map((v) => f3(v).padStart(7)).join('')}  ${f3(mean(onTest))}  | ${f3(mean(onTraining))}`);
  }
}

if (all || values.methods) await methods();
if (all || values.occupancy) occupancy();
if (all || values['level-margin']) levelMargin();
