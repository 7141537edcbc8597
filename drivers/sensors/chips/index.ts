import { aht20 } from './aht20.js';
import { bmx280 } from './bmx280.js';
import type { ChipDriver, I2CChipName } from './chip.js';
import { mcp9808 } from './mcp9808.js';
import { sht3x, sht4x } from './sensirion.js';
import { tmp102, tmp117 } from './ti-tmp.js';

export type { ChipDriver, I2CChipName } from './chip.js';

export const CHIP_DRIVERS: Readonly<Record<I2CChipName, ChipDriver>> = {
  bme280: bmx280,
  bmp280: bmx280,
  sht3x,
  sht4x,
  mcp9808,
  tmp117,
  tmp102,
  aht20,
};

export function isI2CChipName(name: string): name is I2CChipName {
  return Object.hasOwn(CHIP_DRIVERS, name);
}

/**
 * The order `sensor: auto` probes in and prefers: the most accurate chips first (TMP117 ±0.1 °C,
 * SHT4x, SHT3x, MCP9808), the BME280 last since its self-heating reads warm. Where two chips share an
 * address the one with the stronger identification goes first: SHT4x before SHT3x (a one-byte command
 * the SHT3x ignores), TMP117 (id register) before TMP102 (configuration pattern).
 */
export const PROBE_ORDER: readonly ChipDriver[] = [tmp117, sht4x, sht3x, mcp9808, tmp102, aht20, bmx280];
