import { hex } from '../../i2c/types.js';
import { crc8 } from '../crc8.js';
import { SensorDataError } from '../errors.js';
import type { ChipDriver, I2CChipName, Measure } from './chip.js';
import type { I2CDevice } from './i2c-device.js';

/** Aosong AHT20 (datasheet v1.1): status byte, trigger 0xAC 0x33 0x00, 20-bit readings, CRC-8. */

const CMD_STATUS = [0x71];
const CMD_INITIALIZE = [0xbe, 0x08, 0x00];
const CMD_TRIGGER = [0xac, 0x33, 0x00];
const STATUS_BUSY = 0x80;
const STATUS_CALIBRATED = 0x08;
const POWER_ON_MS = 40;
const INITIALIZE_MS = 10;
const MEASURE_MS = 80;
const POLL_MS = 10;
const MAX_POLLS = 5;

/** T = S_T / 2^20 * 200 - 50 */
export function aht20Celsius(raw20: number): number {
  return (raw20 / 0x100000) * 200 - 50;
}

async function readStatus(device: I2CDevice): Promise<number> {
  await device.writeBytes(...CMD_STATUS);
  return (await device.readBytes(1))[0] ?? 0;
}

/** Triggers a measurement and reads the 7-byte answer once the busy bit clears. */
async function measure(device: I2CDevice): Promise<number> {
  await device.writeBytes(...CMD_TRIGGER);
  await device.sleep(MEASURE_MS);
  for (let poll = 0; poll <= MAX_POLLS; poll++) {
    const data = await device.readBytes(7);
    if (((data[0] ?? 0) & STATUS_BUSY) === 0) {
      const expected = crc8(data.subarray(0, 6));
      if (data[6] !== expected) throw new SensorDataError(`CRC mismatch: received ${hex(data[6] ?? 0)}, computed ${hex(expected)}`);
      return aht20Celsius((((data[3] ?? 0) & 0x0f) << 16) | ((data[4] ?? 0) << 8) | (data[5] ?? 0));
    }
    if (poll < MAX_POLLS) await device.sleep(POLL_MS);
  }
  throw new SensorDataError(`still busy ${MEASURE_MS + MAX_POLLS * POLL_MS} ms after the trigger`);
}

/** No id register: whatever answers a status read at 0x38 is taken for an AHT20 (or its AHT2x siblings). */
export const aht20: ChipDriver = {
  chip: 'aht20',
  addresses: [0x38],
  range: { min: -40, max: 85 },
  async identify(device): Promise<I2CChipName | null> {
    await readStatus(device);
    return 'aht20';
  },
  async init(device): Promise<Measure> {
    await device.sleep(POWER_ON_MS);
    if (((await readStatus(device)) & STATUS_CALIBRATED) === 0) {
      await device.writeBytes(...CMD_INITIALIZE);
      await device.sleep(INITIALIZE_MS);
      const status = await readStatus(device);
      if ((status & STATUS_CALIBRATED) === 0) throw new SensorDataError(`calibration bit still clear after initialisation (status ${hex(status)})`);
    }
    return () => measure(device);
  },
};
