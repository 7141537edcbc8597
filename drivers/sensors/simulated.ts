import { AMBIENT_RANGE, checkedReading, invalidReading } from './reading.js';
import type { Clock } from '../../agent/lib/timing.js';
import type { Reading, TemperatureSensor } from './types.js';

/**
 * A room that does not exist, for the demo: a daily swing (coolest before dawn, warmest mid-afternoon,
 * UTC), slow weather drift, and sensor noise. The temperature is a pure function of (seed, time), so
 * a given seed replays the same curve whatever the sampling pattern, and a forecaster has real
 * structure (the daily cycle and the drift) to learn from. It also has a past: `history()` gives the
 * hour before the start (simulated too, and named so), so that the demo's first forecast comes at once.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The demo's history: an hour of readings a minute apart, what the forecaster needs for its first window. */
const HISTORY_MS = HOUR;
const HISTORY_STEP_MS = 60_000;
/** The sensor name of the history's readings, so that nobody takes them for measurements (or for this start's). */
export const SIMULATED_HISTORY = 'sim-history';
const BASE_C = 21;
const DAILY_AMPLITUDE_C = 2.5;
const NOISE_SD_C = 0.04;

/** A uniform number in (0, 1) from (seed, n), independent of call order. */
function hashUniform(seed: number, n: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(n | 0, 0xc2b2ae35) ^ Math.imul(Math.floor(n / 2 ** 32), 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (((h ^ (h >>> 16)) >>> 0) + 0.5) / 2 ** 32;
}

export interface SimulatedCurve {
  (ts: number): number;
}

export function simulatedTemperature(seed: number): SimulatedCurve {
  // Negative indexes: never a second since the epoch, so the choices do not correlate with the noise.
  let choice = 0;
  const random = () => hashUniform(seed, --choice);
  // Weather: slow swings over days, hours and tens of minutes, with seeded periods and phases.
  const drift = [
    { amplitude: 1.2, period: (2.2 + random()) * DAY, phase: random() * 2 * Math.PI },
    { amplitude: 0.35, period: (9 + 4 * random()) * HOUR, phase: random() * 2 * Math.PI },
    { amplitude: 0.1, period: (0.7 + 0.3 * random()) * HOUR, phase: random() * 2 * Math.PI },
  ];
  return (ts) => {
    const dayAngle = (2 * Math.PI * ((ts % DAY) - 15 * HOUR)) / DAY;
    // The second harmonic makes the morning rise steeper than the evening fall, as rooms do.
    const daily = DAILY_AMPLITUDE_C * Math.cos(dayAngle) + 0.4 * Math.cos(2 * dayAngle + 0.8);
    const weather = drift.reduce((sum, d) => sum + d.amplitude * Math.sin((2 * Math.PI * ts) / d.period + d.phase), 0);
    // Box-Muller from two hashes of the second: the same second always gets the same noise.
    const second = Math.floor(ts / 1000);
    const gaussian = Math.sqrt(-2 * Math.log(hashUniform(seed, second))) * Math.cos(2 * Math.PI * hashUniform(seed ^ 0x5bd1e995, second));
    return BASE_C + daily + weather + NOISE_SD_C * gaussian;
  };
}

export class SimulatedSensor implements TemperatureSensor {
  readonly name = 'sim';
  private readonly curve: SimulatedCurve;
  private closed = false;

  constructor(
    seed: number,
    private readonly clock: Clock,
  ) {
    this.curve = simulatedTemperature(seed);
  }

  read(): Promise<Reading> {
    const ts = this.clock.now();
    if (this.closed) return Promise.resolve(invalidReading(this.name, ts, 'sensor closed'));
    return Promise.resolve(this.at(ts, this.name));
  }

  /**
   * The hour before now, a reading a minute, from the same curve, named `sim-history`: with it the demo
   * forecasts at its first reading instead of an hour after `npm start`.
   */
  history(): Reading[] {
    const now = this.clock.now();
    const steps = HISTORY_MS / HISTORY_STEP_MS;
    return Array.from({ length: steps }, (_, i) => this.at(now - (steps - i) * HISTORY_STEP_MS, SIMULATED_HISTORY));
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** Reported at 0.01 °C, the resolution of a BME280. */
  private at(ts: number, sensor: string): Reading {
    return checkedReading(sensor, ts, Math.round(this.curve(ts) * 100) / 100, AMBIENT_RANGE);
  }
}
