import type { FakeChip } from './fake-bus.js';

/**
 * Chips addressed through a register pointer: the first byte of a write sets the pointer, any further
 * bytes are written to the registers, and reads start at the pointer.
 */

/** 8-bit registers with auto-increment (Bosch BME280/BMP280). */
export abstract class ByteRegisterChip implements FakeChip {
  private pointer = 0;

  protected abstract readRegister(register: number): number;
  protected abstract writeRegister(register: number, value: number): void;

  write(data: Buffer): void {
    this.pointer = data[0] ?? this.pointer;
    for (const value of data.subarray(1)) this.writeRegister(this.pointer++ & 0xff, value);
  }

  read(length: number): Buffer {
    const bytes = Buffer.alloc(length);
    for (let i = 0; i < length; i++) bytes[i] = this.readRegister(this.pointer++ & 0xff) & 0xff;
    return bytes;
  }
}

/** 16-bit registers sent most significant byte first, no auto-increment (MCP9808, TMP117, TMP102). */
export abstract class WordRegisterChip implements FakeChip {
  protected pointer = 0;

  protected abstract readRegister(register: number): number;
  protected writeRegister(_register: number, _value: number): void {}

  write(data: Buffer): void {
    this.pointer = data[0] ?? this.pointer;
    if (data.length >= 3) this.writeRegister(this.pointer, ((data[1] ?? 0) << 8) | (data[2] ?? 0));
  }

  read(length: number): Buffer {
    const word = this.readRegister(this.pointer) & 0xffff;
    const bytes = Buffer.alloc(length);
    for (let i = 0; i < length; i++) bytes[i] = i % 2 === 0 ? word >> 8 : word & 0xff;
    return bytes;
  }
}
