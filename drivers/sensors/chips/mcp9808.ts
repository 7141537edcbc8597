import { hex } from '../../i2c/types.js';
import { SensorDataError } from '../errors.js';
import { signed, type ChipDriver, type I2CChipName, type Measure } from './chip.js';
import type { I2CDevice } from './i2c-device.js';

/** Microchip MCP9808 (DS25095): continuous conversion, 0.0625 °C, ±0.25 °C typical. */

const REG_AMBIENT = 0x05;
const REG_MANUFACTURER = 0x06;
const REG_DEVICE = 0x07;
const MANUFACTURER_ID = 0x0054;
const DEVICE_ID = 0x04;

/**
 * T_A: bits 15..13 are alert flags, bits 12..0 a 13-bit two's complement count of 1/16 °C. (The
 * datasheet's sample code computes `256 - x` for negative values; the two's complement is `x - 256`.)
 */
export function mcp9808Celsius(raw: number): number {
  return signed(raw, 13) / 16;
}

async function readIds(device: I2CDevice): Promise<{ manufacturer: number; device: number }> {
  return { manufacturer: await device.readWord(REG_MANUFACTURER), device: (await device.readWord(REG_DEVICE)) >> 8 };
}

function isMcp9808(ids: { manufacturer: number; device: number }): boolean {
  return ids.manufacturer === MANUFACTURER_ID && ids.device === DEVICE_ID;
}

export const mcp9808: ChipDriver = {
  chip: 'mcp9808',
  addresses: [0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f],
  range: { min: -40, max: 125 },
  async identify(device): Promise<I2CChipName | null> {
    return isMcp9808(await readIds(device)) ? 'mcp9808' : null;
  },
  async init(device): Promise<Measure> {
    const ids = await readIds(device);
    if (!isMcp9808(ids)) {
      throw new SensorDataError(
        `no MCP9808 at ${hex(device.address)}: manufacturer id ${hex(ids.manufacturer, 4)} (expected 0x0054), device id ${hex(ids.device)} (expected 0x04)`,
      );
    }
    return async () => mcp9808Celsius(await device.readWord(REG_AMBIENT));
  },
};
