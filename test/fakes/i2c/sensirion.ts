import { crc8 } from '../../../drivers/sensors/crc8.js';
import { nack, type FakeChip, type VirtualClock } from './fake-bus.js';
import { clampUnsigned } from './encode.js';

/** S_T = (T + 45) · 65535 / 175 and S_RH = RH · 65535 / 100 (the SHT3x/SHT4x datasheets, inverted). */
export function sensirionRawFor(celsius: number): number {
  return clampUnsigned(((celsius + 45) * 65535) / 175, 16);
}

function humidityRaw(percent: number): number {
  return clampUnsigned((percent * 65535) / 100, 16);
}

/**
 * What SHT3x and SHT4x have in common: a command starts work, the answer is a list of 16-bit words each
 * followed by its CRC-8, and a read header before the answer is ready (or with nothing to say) is NACKed.
 */
abstract class SensirionChip implements FakeChip {
  celsius = 21.5;
  humidity = 45;
  /** Send a wrong CRC with every word. */
  corruptCrc = false;
  measurements = 0;
  private answer: number[] | null = null;
  private readyAt = 0;

  constructor(protected readonly clock: VirtualClock) {}

  abstract write(data: Buffer): void;

  read(length: number): Buffer {
    if (!this.answer || this.clock.now < this.readyAt) throw nack();
    const bytes = this.answer.flatMap((word) => {
      const pair = [word >> 8, word & 0xff];
      const crc = crc8(Uint8Array.from(pair));
      return [...pair, this.corruptCrc ? crc ^ 0x01 : crc];
    });
    this.answer = null; // an answer is read once
    return Buffer.from(bytes.slice(0, length));
  }

  protected answerAfter(delayMs: number, words: number[]): void {
    this.answer = words;
    this.readyAt = this.clock.now + delayMs;
  }

  protected measure(delayMs: number): void {
    this.measurements++;
    this.answerAfter(delayMs, [sensirionRawFor(this.celsius), humidityRaw(this.humidity)]);
  }
}

/** SHT3x: 16-bit commands; 0x2400 single shot high repeatability (15.5 ms max), 0xF32D status. */
export class FakeSht3x extends SensirionChip {
  constructor(
    clock: VirtualClock,
    private readonly measureMs = 15.5,
  ) {
    super(clock);
  }

  write(data: Buffer): void {
    if (data.length < 2) return; // half a command: ACKed, then dropped at the STOP
    const command = data.readUInt16BE(0);
    if (command === 0x2400) this.measure(this.measureMs);
    else if (command === 0xf32d) this.answerAfter(0, [0x8010]); // status after reset: alert pending, reset detected
    else if (command !== 0x30a2) throw nack(); // soft reset is accepted; other commands are not emulated
  }
}

/** SHT4x: 8-bit commands; 0xFD high precision (8.3 ms max), 0x89 serial number, 0x94 soft reset. */
export class FakeSht4x extends SensirionChip {
  constructor(
    clock: VirtualClock,
    private readonly measureMs = 8.3,
    readonly serial = 0x12345678,
  ) {
    super(clock);
  }

  write(data: Buffer): void {
    const command = data[0];
    if (command === 0xfd) this.measure(this.measureMs);
    else if (command === 0x89) this.answerAfter(0.2, [this.serial >>> 16, this.serial & 0xffff]);
    else if (command !== 0x94) throw nack();
  }
}
