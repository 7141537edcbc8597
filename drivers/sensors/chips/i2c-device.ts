import type { I2CBus } from '../../i2c/types.js';
import type { Sleep } from '../../../agent/lib/timing.js';

/**
 * One chip on a bus: the transfers chip drivers need, with short transfers turned into EIO errors
 * (a short transfer is a bus glitch, retried like any other).
 */
export class I2CDevice {
  constructor(
    private readonly bus: I2CBus,
    readonly address: number,
    /** Conversion waits go through the injected sleep so tests run on virtual time. */
    readonly sleep: Sleep,
  ) {}

  /** Register pointer write, then `length` bytes with a repeated start (auto-incrementing chips). */
  async readRegisters(register: number, length: number): Promise<Buffer> {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await this.bus.readI2cBlock(this.address, register, length, buffer);
    if (bytesRead !== length) throw shortTransfer('read', bytesRead, length);
    return buffer;
  }

  /** A 16-bit register sent most significant byte first (MCP9808, TMP1xx). */
  async readWord(register: number): Promise<number> {
    return (await this.readRegisters(register, 2)).readUInt16BE(0);
  }

  async writeRegister(register: number, value: number): Promise<void> {
    await this.bus.writeByte(this.address, register, value);
  }

  /** A command written as plain bytes (Sensirion and Aosong chips have commands, not registers). */
  async writeBytes(...bytes: number[]): Promise<void> {
    const buffer = Buffer.from(bytes);
    const { bytesWritten } = await this.bus.i2cWrite(this.address, buffer.length, buffer);
    if (bytesWritten !== buffer.length) throw shortTransfer('write', bytesWritten, buffer.length);
  }

  async readBytes(length: number): Promise<Buffer> {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await this.bus.i2cRead(this.address, length, buffer);
    if (bytesRead !== length) throw shortTransfer('read', bytesRead, length);
    return buffer;
  }
}

function shortTransfer(kind: string, got: number, wanted: number): Error {
  return Object.assign(new Error(`EIO: short I2C ${kind}, ${got} of ${wanted} bytes`), { code: 'EIO' });
}
