import { hex } from '../../i2c/types.js';
import { SensorDataError } from '../errors.js';
import { signed, type ChipDriver, type I2CChipName, type Measure } from './chip.js';

/** Texas Instruments TMP117 and TMP102: both at 0x48..0x4B with the temperature in register 0x00. */

const REG_TEMP = 0x00;
const REG_CONFIG = 0x01;
const ADDRESSES = [0x48, 0x49, 0x4a, 0x4b];

const TMP117_REG_DEVICE_ID = 0x0f;
const TMP117_DEVICE_ID = 0x117; // bits 11..0; bits 15..12 are the revision
/** The result register reads -256 °C (0x8000) after reset until the first conversion completes. */
const TMP117_RESET_VALUE = 0x8000;
/** Default conversion: 8 averaged samples, 125 ms. */
const TMP117_CONVERSION_MS = 125;
const TMP117_MAX_WAITS = 8;

/** TMP117: 16-bit two's complement, 7.8125 m°C (1/128 °C) per LSB. */
export function tmp117Celsius(raw: number): number {
  return signed(raw, 16) / 128;
}

export const tmp117: ChipDriver = {
  chip: 'tmp117',
  addresses: ADDRESSES,
  range: { min: -55, max: 150 },
  async identify(device): Promise<I2CChipName | null> {
    return ((await device.readWord(TMP117_REG_DEVICE_ID)) & 0x0fff) === TMP117_DEVICE_ID ? 'tmp117' : null;
  },
  async init(device): Promise<Measure> {
    const id = await device.readWord(TMP117_REG_DEVICE_ID);
    if ((id & 0x0fff) !== TMP117_DEVICE_ID) {
      throw new SensorDataError(`no TMP117 at ${hex(device.address)}: device id ${hex(id, 4)} (expected 0x0117)`);
    }
    return async () => {
      for (let waits = 0; ; waits++) {
        const raw = await device.readWord(REG_TEMP);
        if (raw !== TMP117_RESET_VALUE) return tmp117Celsius(raw);
        if (waits === TMP117_MAX_WAITS) {
          throw new SensorDataError('still reads the -256 °C reset value: no conversion completed (shutdown mode?)');
        }
        await device.sleep(TMP117_CONVERSION_MS);
      }
    };
  },
};

/**
 * TMP102: 12-bit two's complement left-aligned, 0.0625 °C per LSB; in extended mode (bit 0 set) 13-bit,
 * which reaches 150 °C.
 */
export function tmp102Celsius(raw: number): number {
  return raw & 0x0001 ? signed(raw >> 3, 13) / 16 : signed(raw >> 4, 12) / 16;
}

/** First conversion after power-up (26 ms typical); the register reads 0 °C until then. */
const TMP102_FIRST_CONVERSION_MS = 30;

/**
 * The TMP102 has no id register: it is recognised by its configuration register, whose resolution
 * bits R1:R0 always read 11 and whose low nibble always reads 0 (reset value 0x60A0).
 */
export const tmp102: ChipDriver = {
  chip: 'tmp102',
  addresses: ADDRESSES,
  range: { min: -55, max: 150 },
  async identify(device): Promise<I2CChipName | null> {
    const config = await device.readWord(REG_CONFIG);
    return (config & 0x600f) === 0x6000 ? 'tmp102' : null;
  },
  async init(device): Promise<Measure> {
    await device.sleep(TMP102_FIRST_CONVERSION_MS);
    return async () => tmp102Celsius(await device.readWord(REG_TEMP));
  },
};
