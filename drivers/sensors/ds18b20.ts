import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SensorConfigError } from './errors.js';
import { checkedReading, invalidReading, type PlausibleRange } from './reading.js';
import type { Clock } from '../../agent/lib/timing.js';
import type { Reading, TemperatureSensor } from './types.js';

/** Maxim DS18B20 on 1-Wire through the kernel's w1_therm driver (dtoverlay=w1-gpio). */

export const DEFAULT_W1_ROOT = '/sys/bus/w1/devices';
const DEVICE_ID = /^28-[0-9a-f]{12}$/;
const RANGE: PlausibleRange = { min: -55, max: 125 };
/** The scratchpad's power-on value: the conversion never ran (power wiring, weak parasite pull-up). */
const POWER_ON_MILLIDEGREES = 85_000;

/** DS18B20 device ids (family 28) under the 1-Wire root, sorted; none when 1-Wire is off. */
export async function listDs18b20(w1Root: string): Promise<string[]> {
  try {
    return (await readdir(w1Root)).filter((name) => DEVICE_ID.test(name)).sort();
  } catch {
    return [];
  }
}

export function checkDs18b20Id(device: string): string {
  if (!DEVICE_ID.test(device)) {
    throw new SensorConfigError(`sensor.device ${JSON.stringify(device)} is not a DS18B20 id (28- and 12 hex digits, as in /sys/bus/w1/devices)`);
  }
  return device;
}

/**
 * Parses w1_slave:
 *   72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
 *   72 01 4b 46 7f ff 0e 10 57 t=23125
 * into °C, or the reason the reading cannot be trusted.
 */
export function parseW1Slave(text: string): { celsius: number } | { error: string } {
  const [crcLine = '', dataLine = ''] = text.split('\n');
  const crc = /crc=([0-9a-f]{2}) (YES|NO)/i.exec(crcLine);
  const millidegrees = /t=(-?\d+)/.exec(dataLine);
  if (!crc || !millidegrees) return { error: `unexpected w1_slave content ${JSON.stringify(text.slice(0, 120))}` };
  if (crc[2] !== 'YES') return { error: `1-Wire CRC mismatch (crc=${crc[1]} NO): check the wiring and the 4.7 kΩ pull-up` };
  const scratchpad = crcLine.split(':')[0]?.trim().split(/\s+/) ?? [];
  // An all-zero scratchpad has a valid CRC (0): it is what a data line stuck low reads as.
  if (scratchpad.every((byte) => byte === '00')) return { error: 'all-zero scratchpad: the data line is stuck low or the sensor is missing' };
  const value = Number(millidegrees[1]);
  if (value === POWER_ON_MILLIDEGREES) {
    return { error: '85.000 °C is the DS18B20 power-on value: no conversion ran (check the power wiring)' };
  }
  return { celsius: value / 1000 };
}

export interface Ds18b20Options {
  w1Root: string;
  /** null: the first DS18B20 found at each read until one is. */
  device: string | null;
  clock: Clock;
}

export class Ds18b20Sensor implements TemperatureSensor {
  readonly name: string;
  private device: string | null;
  private closed = false;

  constructor(private readonly options: Ds18b20Options) {
    this.device = options.device;
    this.name = options.device ? `ds18b20:${options.device}` : 'ds18b20';
  }

  async read(): Promise<Reading> {
    const { clock, w1Root } = this.options;
    if (this.closed) return invalidReading(this.name, clock.now(), 'sensor closed');
    this.device ??= (await listDs18b20(w1Root))[0] ?? null;
    if (this.device === null) return invalidReading(this.name, clock.now(), `no DS18B20 (28-*) under ${w1Root}: is dtoverlay=w1-gpio on?`);
    let text: string;
    try {
      text = await readFile(join(w1Root, this.device, 'w1_slave'), 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const reason = code === 'ENOENT' ? 'is gone from the 1-Wire bus' : `cannot be read (${code ?? (err as Error).message})`;
      return invalidReading(this.name, clock.now(), `DS18B20 ${this.device} ${reason}`);
    }
    const parsed = parseW1Slave(text);
    return 'error' in parsed ? invalidReading(this.name, clock.now(), parsed.error) : checkedReading(this.name, clock.now(), parsed.celsius, RANGE);
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
