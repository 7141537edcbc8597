import { describe, expect, it } from 'vitest';
import { SIMULATED_HISTORY, SimulatedSensor, simulatedTemperature } from '../../../drivers/sensors/simulated.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const START = Date.UTC(2025, 5, 1);

/** A week of the simulated room, one value a minute. */
function week(seed: number): number[] {
  const curve = simulatedTemperature(seed);
  return Array.from({ length: 7 * 24 * 60 }, (_, i) => curve(START + i * MINUTE));
}

describe('simulated sensor', () => {
  it('is a pure function of seed and time', () => {
    const a = simulatedTemperature(7);
    const b = simulatedTemperature(7);
    const ts = [START + 123_456, START + 5 * DAY, START];
    expect(ts.map(a)).toEqual(ts.map(b));
    expect(simulatedTemperature(8)(START)).not.toBe(a(START));
  });

  it('stays in a plausible indoor range and moves smoothly', () => {
    const values = week(3);
    expect(Math.min(...values)).toBeGreaterThan(13);
    expect(Math.max(...values)).toBeLessThan(29);
    const steps = values.slice(1).map((v, i) => Math.abs(v - values[i]!));
    expect(Math.max(...steps)).toBeLessThan(0.35);
  });

  it('has a daily cycle: afternoons are warmer than nights', () => {
    const values = week(3);
    const meanAtHour = (hour: number) => {
      const at = values.filter((_, i) => Math.floor(i / 60) % 24 === hour);
      return at.reduce((s, v) => s + v, 0) / at.length;
    };
    expect(meanAtHour(15) - meanAtHour(3)).toBeGreaterThan(3.5);
  });

  it('changes from one hour to the next by more than its noise, so there is something to forecast', () => {
    const values = week(11);
    const hourAhead = values.slice(60).map((v, i) => Math.abs(v - values[i]!));
    const meanChange = hourAhead.reduce((s, v) => s + v, 0) / hourAhead.length;
    expect(meanChange).toBeGreaterThan(0.3);
  });

  it('reads the curve at the clock time, at 0.01 °C resolution', async () => {
    let now = START + 15 * 60 * MINUTE;
    const sensor = new SimulatedSensor(5, { now: () => now, monotonic: () => now });
    const reading = await sensor.read();
    expect(reading).toEqual({ valid: true, celsius: Math.round(simulatedTemperature(5)(now) * 100) / 100, ts: now, sensor: 'sim' });
    now += MINUTE;
    expect((await sensor.read()).ts).toBe(now);
  });

  it('has an hour of history before now, a reading a minute from the same curve, marked as history', () => {
    const now = START + 15 * 60 * MINUTE + 12_345;
    const history = new SimulatedSensor(5, { now: () => now, monotonic: () => now }).history();
    expect(history).toHaveLength(60);
    expect(history.map((r) => r.ts)).toEqual(Array.from({ length: 60 }, (_, i) => now - (60 - i) * MINUTE));
    for (const r of history) {
      expect(r).toEqual({ valid: true, celsius: Math.round(simulatedTemperature(5)(r.ts) * 100) / 100, ts: r.ts, sensor: SIMULATED_HISTORY });
    }
    expect(SIMULATED_HISTORY).toBe('sim-history');
  });
});
