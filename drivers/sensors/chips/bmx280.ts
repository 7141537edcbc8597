import { hex } from '../../i2c/types.js';
import { SensorDataError } from '../errors.js';
import type { ChipDriver, I2CChipName, Measure } from './chip.js';
import type { I2CDevice } from './i2c-device.js';

/**
 * Bosch BME280 / BMP280 (same temperature path; the BME280 adds humidity, unused here). Datasheet
 * BST-BME280-DS002: chip id 0xD0, temperature trimming dig_T1..dig_T3 at 0x88, forced mode.
 */

const REG_CALIB_T = 0x88;
const REG_CHIP_ID = 0xd0;
const REG_CTRL_HUM = 0xf2;
const REG_STATUS = 0xf3;
const REG_CTRL_MEAS = 0xf4;
const REG_CONFIG = 0xf5;
const REG_TEMP_MSB = 0xfa;

const CHIP_IDS: ReadonlyMap<number, 'bme280' | 'bmp280'> = new Map([
  [0x60, 'bme280'],
  [0x58, 'bmp280'],
  [0x57, 'bmp280'], // BMP280 engineering samples
  [0x56, 'bmp280'],
]);

/** ctrl_meas: osrs_t x1, pressure skipped, mode 01 = forced (one measurement, then back to sleep). */
const FORCED_TEMPERATURE_ONLY = 0b001_000_01;
const STATUS_MEASURING = 0x08;
/** Datasheet appendix B: t_measure,max = 1.25 + 2.3 * osrs_t ms with pressure and humidity skipped. */
const MEASURE_MS = 4;
const POLL_MS = 2;
const MAX_POLLS = 5;
/** What the data registers hold when the temperature was skipped or never measured since reset. */
const SKIPPED = 0x80000;

export interface Bmx280Trimming {
  t1: number;
  t2: number;
  t3: number;
}

/** dig_T1 (unsigned), dig_T2, dig_T3 (signed), little-endian from 0x88. */
function parseTrimming(raw: Buffer): Bmx280Trimming {
  return { t1: raw.readUInt16LE(0), t2: raw.readInt16LE(2), t3: raw.readInt16LE(4) };
}

/**
 * Bosch's 32-bit integer compensation (datasheet 4.2.3, BME280_compensate_T_int32), in °C with
 * 0.01 °C resolution. JavaScript's `>>` works on int32 like the reference C code.
 */
export function compensateTemperature(adcT: number, { t1, t2, t3 }: Bmx280Trimming): number {
  const var1 = (((adcT >> 3) - (t1 << 1)) * t2) >> 11;
  const delta = (adcT >> 4) - t1;
  const var2 = (((delta * delta) >> 12) * t3) >> 14;
  const tFine = var1 + var2;
  return ((tFine * 5 + 128) >> 8) / 100;
}

async function readChipId(device: I2CDevice): Promise<number> {
  return (await device.readRegisters(REG_CHIP_ID, 1))[0] ?? 0;
}

async function waitWhileMeasuring(device: I2CDevice): Promise<void> {
  await device.sleep(MEASURE_MS);
  for (let poll = 0; poll < MAX_POLLS; poll++) {
    const status = (await device.readRegisters(REG_STATUS, 1))[0] ?? 0;
    if ((status & STATUS_MEASURING) === 0) return;
    await device.sleep(POLL_MS);
  }
  throw new SensorDataError(`measurement still running after ${MEASURE_MS + MAX_POLLS * POLL_MS} ms`);
}

export const bmx280: ChipDriver = {
  chip: 'bme280',
  addresses: [0x76, 0x77],
  range: { min: -40, max: 85 },

  async identify(device): Promise<I2CChipName | null> {
    return CHIP_IDS.get(await readChipId(device)) ?? null;
  },

  async init(device): Promise<Measure> {
    const id = await readChipId(device);
    const variant = CHIP_IDS.get(id);
    if (!variant) {
      throw new SensorDataError(`chip id ${hex(id)} at ${hex(device.address)} is not a BME280 (0x60) or BMP280 (0x58)`);
    }
    // Sleep mode first: config writes are ignored in normal mode, which another program may have left.
    await device.writeRegister(REG_CTRL_MEAS, 0x00);
    await device.writeRegister(REG_CONFIG, 0x00); // IIR filter off: each forced reading stands alone
    // Humidity skipped; ctrl_hum only takes effect with the next ctrl_meas write (the forced trigger).
    if (variant === 'bme280') await device.writeRegister(REG_CTRL_HUM, 0x00);
    const trimming = parseTrimming(await device.readRegisters(REG_CALIB_T, 6));
    return async () => {
      await device.writeRegister(REG_CTRL_MEAS, FORCED_TEMPERATURE_ONLY);
      await waitWhileMeasuring(device);
      const raw = await device.readRegisters(REG_TEMP_MSB, 3);
      const adcT = ((raw[0] ?? 0) << 12) | ((raw[1] ?? 0) << 4) | ((raw[2] ?? 0) >> 4);
      if (adcT === SKIPPED) throw new SensorDataError('temperature not measured (data registers hold the 0x80000 reset value)');
      return compensateTemperature(adcT, trimming);
    };
  },
};
