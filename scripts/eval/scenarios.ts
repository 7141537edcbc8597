/**
 * The rooms `npm run eval:forecast` replays: the office of the occupancy data set as it is, and rooms
 * unlike it made from the same readings, so that every one keeps the office's real weather, occupancy
 * and noise and differs in one thing only. Deterministic: the same file gives the same rooms.
 */
import type { ReplayRow } from '../../drivers/sensors/replay-csv.js';
import { seededRandom } from '../train/forecast-mlp.js';

export interface Scenario {
  name: string;
  /** What the room is, for the report. */
  description: string;
  /** The room's temperature at each of the office's readings (rows with a value only, oldest first). */
  transform(rows: readonly TimedValue[]): TimedValue[];
}

export interface TimedValue {
  ts: number;
  celsius: number;
}

const HOUR_MS = 3_600_000;
const round2 = (value: number) => Math.round(value * 100) / 100;

function shifted(by: number): Scenario['transform'] {
  return (rows) => rows.map((r) => ({ ts: r.ts, celsius: round2(r.celsius + by) }));
}

/**
 * Heating on from 06:00 to 22:00 (UTC), adding `amplitude` °C with a first-order response of time
 * constant `tauMin` minutes (the room warms over the morning and cools through the night), over the
 * office's readings lowered by half the amplitude.
 */
function heatingCycle(amplitude: number, tauMin: number): Scenario['transform'] {
  return (rows) => {
    let heat = 0;
    let previous = rows[0]?.ts ?? 0;
    return rows.map((r) => {
      const minutes = Math.max(1, Math.round((r.ts - previous) / 60_000));
      previous = r.ts;
      const hour = (r.ts / HOUR_MS) % 24;
      const target = hour >= 6 && hour < 22 ? amplitude : 0;
      for (let m = 0; m < minutes; m++) heat += (target - heat) / tauMin;
      return { ts: r.ts, celsius: round2(r.celsius - amplitude / 2 + heat) };
    });
  };
}

/** A cheap sensor (DHT22 class): Gaussian noise of `sd` °C and readings in steps of 0.1 °C. */
function noisySensor(sd: number, seed: number): Scenario['transform'] {
  return (rows) => {
    const random = seededRandom(seed);
    return rows.map((r) => {
      const gaussian = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      return { ts: r.ts, celsius: Math.round((r.celsius + sd * gaussian) * 10) / 10 };
    });
  };
}

export const SCENARIOS: readonly Scenario[] = [
  { name: 'office', description: 'the office of the occupancy data set, as recorded (the shipped model was trained on these days)', transform: (rows) => [...rows] },
  { name: 'cold', description: 'the office moved to 5 °C (a cold store): every reading -16 °C', transform: shifted(-16) },
  { name: 'warm', description: 'the office moved to 30 °C (a greenhouse in summer): every reading +9 °C', transform: shifted(9) },
  { name: 'heating', description: 'a room heated from 06:00 to 22:00 UTC (+3 °C, time constant 40 min) over the office\'s readings', transform: heatingCycle(3, 40) },
  { name: 'noisy', description: 'the office through a cheap sensor: noise of 0.15 °C, steps of 0.1 °C', transform: noisySensor(0.15, 7) },
];

/** The rows with a value, as times and temperatures. */
export function timedValues(rows: readonly ReplayRow[]): TimedValue[] {
  return rows.flatMap((r) => (r.value === null ? [] : [{ ts: r.ts, celsius: r.value }]));
}

/** A CSV the replay sensor reads: `"date","Temperature"` with UTC times. */
export function toCsv(values: readonly TimedValue[]): string {
  const lines = values.map((v) => `"${new Date(v.ts).toISOString().slice(0, 19).replace('T', ' ')}",${v.celsius}`);
  return ['"date","Temperature"', ...lines, ''].join('\n');
}
