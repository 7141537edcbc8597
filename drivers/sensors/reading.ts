import type { Reading } from './types.js';

/** The temperatures a sensor can physically report (its datasheet's operating range). */
export interface PlausibleRange {
  min: number;
  max: number;
}

/** Replayed and simulated values: any temperature a room, a greenhouse or the outdoors can have. */
export const AMBIENT_RANGE: PlausibleRange = { min: -60, max: 150 };

export function invalidReading(sensor: string, ts: number, error: string): Reading {
  return { valid: false, error, ts, sensor };
}

/**
 * A valid reading, or an invalid one when the value is not a finite number inside the sensor's range:
 * an out-of-range value means a broken transfer or chip, never a temperature to act on.
 */
export function checkedReading(sensor: string, ts: number, celsius: number, range: PlausibleRange): Reading {
  if (!Number.isFinite(celsius)) return invalidReading(sensor, ts, `not a number: ${celsius}`);
  if (celsius < range.min || celsius > range.max) {
    return invalidReading(sensor, ts, `implausible value ${celsius} °C (outside ${range.min}..${range.max} °C)`);
  }
  return { valid: true, celsius, ts, sensor };
}
