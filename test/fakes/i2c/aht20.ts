import { crc8 } from '../../../drivers/sensors/crc8.js';
import { nack, type FakeChip, type VirtualClock } from './fake-bus.js';
import { clampUnsigned } from './encode.js';

/** S_T = (T + 50) / 200 · 2^20 (the datasheet's formula, inverted). */
export function aht20RawFor(celsius: number): number {
  return clampUnsigned(((celsius + 50) / 200) * 0x100000, 20);
}

/**
 * AHT20: status byte (bit 7 busy, bit 3 calibrated), 0xBE 0x08 0x00 initialisation, 0xAC 0x33 0x00
 * trigger, busy for the conversion time, then status + 20-bit humidity + 20-bit temperature + CRC-8.
 * Read while busy, the data bytes are whatever the previous measurement left.
 */
export class FakeAht20 implements FakeChip {
  celsius = 21.5;
  humidity = 45;
  corruptCrc = false;
  measurements = 0;
  private busyUntil = -Infinity;
  private data: Buffer = Buffer.alloc(5);
  private pending: Buffer | null = null;

  constructor(
    private readonly clock: VirtualClock,
    public calibrated = true,
    private readonly measureMs = 80,
  ) {}

  write(data: Buffer): void {
    const command = [...data].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    if (command === '71') return; // status request
    if (command === 'be 08 00') this.calibrated = true;
    else if (command === 'ac 33 00') this.startMeasurement();
    else if (command !== 'ba') throw nack();
  }

  read(length: number): Buffer {
    const busy = this.clock.now < this.busyUntil;
    if (!busy && this.pending) {
      this.data = this.pending;
      this.pending = null;
    }
    const status = (busy ? 0x80 : 0) | (this.calibrated ? 0x08 : 0) | 0x10;
    const bytes = Buffer.concat([Buffer.from([status]), this.data]);
    const crc = crc8(bytes);
    return Buffer.concat([bytes, Buffer.from([this.corruptCrc ? crc ^ 0xff : crc])]).subarray(0, length);
  }

  private startMeasurement(): void {
    this.measurements++;
    this.busyUntil = this.clock.now + this.measureMs;
    // Uncalibrated chips measure too, but their numbers are meaningless: zero stands for that here.
    const temperature = this.calibrated ? aht20RawFor(this.celsius) : 0;
    const humidity = this.calibrated ? clampUnsigned((this.humidity / 100) * 0x100000, 20) : 0;
    this.pending = Buffer.from([humidity >> 12, (humidity >> 4) & 0xff, ((humidity & 0x0f) << 4) | (temperature >> 16), (temperature >> 8) & 0xff, temperature & 0xff]);
  }
}
