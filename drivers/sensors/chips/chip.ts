import type { I2C_CHIP_NAMES } from '../types.js';
import type { PlausibleRange } from '../reading.js';
import type { I2CDevice } from './i2c-device.js';

export type I2CChipName = (typeof I2C_CHIP_NAMES)[number];

/** Takes one measurement; resolves to °C. Transfer errors reject with their errno code. */
export type Measure = () => Promise<number>;

/** What the generic I2C sensor needs to know about one kind of chip. */
export interface ChipDriver {
  readonly chip: I2CChipName;
  /** The addresses the chip can be strapped to; the first is its default. */
  readonly addresses: readonly number[];
  /** The datasheet's operating range: anything outside is an invalid reading. */
  readonly range: PlausibleRange;
  /**
   * Asks whatever answers at the device's address whether it is this chip (id registers where the chip
   * has them). Resolves to the chip's name, or null for another chip; rejects when nothing answers.
   */
  identify(device: I2CDevice): Promise<I2CChipName | null>;
  /**
   * Readies the chip after the bus was opened (checks its identity, reads calibration, sets modes) and
   * returns the measurement. Throws SensorDataError when the chip is not the one expected.
   */
  init(device: I2CDevice): Promise<Measure>;
}

/** Reinterprets the low `bits` bits of `value` as a two's complement number. */
export function signed(value: number, bits: number): number {
  const sign = 1 << (bits - 1);
  const masked = value & ((1 << bits) - 1);
  return masked & sign ? masked - (1 << bits) : masked;
}
