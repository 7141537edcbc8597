import { hex, isNack } from '../../i2c/types.js';
import { crc8 } from '../crc8.js';
import { SensorDataError } from '../errors.js';
import type { ChipDriver, I2CChipName, Measure } from './chip.js';
import type { I2CDevice } from './i2c-device.js';

/**
 * Sensirion SHT3x and SHT4x. Both answer with 16-bit words, each followed by its CRC-8, and both
 * convert a temperature word the same way. They share addresses 0x44/0x45, so auto-detection tells
 * them apart by their commands: 16-bit on the SHT3x, 8-bit on the SHT4x.
 */

/** Datasheets: T = -45 + 175 * S_T / (2^16 - 1). */
export function sensirionCelsius(raw: number): number {
  return -45 + (175 * raw) / 65535;
}

/** Splits `count` [msb, lsb, crc] triplets into words, checking every CRC. */
export function crcCheckedWords(data: Buffer, count: number): number[] {
  const words: number[] = [];
  for (let i = 0; i < count; i++) {
    const word = data.subarray(i * 3, i * 3 + 2);
    const expected = crc8(word);
    const received = data[i * 3 + 2] ?? -1;
    if (received !== expected) {
      throw new SensorDataError(`CRC mismatch on word ${i}: received ${hex(received)}, computed ${hex(expected)} over ${word.toString('hex')}`);
    }
    words.push(word.readUInt16BE(0));
  }
  return words;
}

const POLL_MS = 5;
const MAX_READS = 5;

/**
 * Reads the answer to a command. The chips NACK the read header until the answer is ready, so a NACK
 * is retried a few times before it counts as a failure: a chip at the slow end of its spec still
 * answers, without restarting its conversion.
 */
async function readAnswer(device: I2CDevice, length: number): Promise<Buffer> {
  for (let reads = 1; ; reads++) {
    try {
      return await device.readBytes(length);
    } catch (err) {
      if (reads >= MAX_READS || !isNack(err)) throw err;
      await device.sleep(POLL_MS);
    }
  }
}

/** Sends a command, waits for the conversion, reads `words` CRC-checked words. */
async function command(device: I2CDevice, bytes: number[], waitMs: number, words: number): Promise<number[]> {
  await device.writeBytes(...bytes);
  await device.sleep(waitMs);
  return crcCheckedWords(await readAnswer(device, words * 3), words);
}

/** Asks the chip a CRC-protected question; a valid answer identifies it, anything else means another chip. */
async function answersWithValidCrc(device: I2CDevice, bytes: number[], waitMs: number, words: number): Promise<boolean> {
  try {
    await command(device, bytes, waitMs, words);
    return true;
  } catch (err) {
    if (err instanceof SensorDataError) return false;
    throw err;
  }
}

/** Turns a measurement command into a Measure; the temperature is the first word. */
function measurement(device: I2CDevice, bytes: number[], waitMs: number): Measure {
  return async () => sensirionCelsius((await command(device, bytes, waitMs, 2))[0] ?? 0);
}

/**
 * SHT3x single shot, high repeatability, clock stretching disabled (0x2400): the chip NACKs a read
 * header until the conversion is done (max 15.5 ms), so the driver waits it out.
 */
const SHT3X_MEASURE = [0x24, 0x00];
const SHT3X_MEASURE_MS = 16;
const SHT3X_READ_STATUS = [0xf3, 0x2d];

export const sht3x: ChipDriver = {
  chip: 'sht3x',
  addresses: [0x44, 0x45],
  range: { min: -40, max: 125 },
  async identify(device): Promise<I2CChipName | null> {
    return (await answersWithValidCrc(device, SHT3X_READ_STATUS, 1, 1)) ? 'sht3x' : null;
  },
  init(device) {
    return Promise.resolve(measurement(device, SHT3X_MEASURE, SHT3X_MEASURE_MS));
  },
};

/** SHT4x high precision measurement (0xFD, max 8.3 ms); 0x89 reads the serial number (two words). */
const SHT4X_MEASURE = [0xfd];
const SHT4X_MEASURE_MS = 10;
const SHT4X_READ_SERIAL = [0x89];

export const sht4x: ChipDriver = {
  chip: 'sht4x',
  addresses: [0x44, 0x45, 0x46],
  range: { min: -40, max: 125 },
  async identify(device): Promise<I2CChipName | null> {
    return (await answersWithValidCrc(device, SHT4X_READ_SERIAL, 1, 2)) ? 'sht4x' : null;
  },
  init(device) {
    return Promise.resolve(measurement(device, SHT4X_MEASURE, SHT4X_MEASURE_MS));
  },
};
