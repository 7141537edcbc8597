/**
 * The I2C bus seam: the subset of i2c-bus's `PromisifiedBus` the sensor drivers use. The real bus
 * (`openI2CBus`) is i2c-bus on /dev/i2c-N; tests pass a fake bus that emulates each chip's registers.
 * Errors carry the errno `code` (EIO, ENXIO, EREMOTEIO, ETIMEDOUT...) as i2c-bus's do.
 */

export interface BytesRead {
  bytesRead: number;
  buffer: Buffer;
}

export interface BytesWritten {
  bytesWritten: number;
  buffer: Buffer;
}

export interface I2CBus {
  /** Plain I2C read message: START, address+R, `length` bytes, STOP. */
  i2cRead(address: number, length: number, buffer: Buffer): Promise<BytesRead>;
  /** Plain I2C write message: START, address+W, `length` bytes, STOP. */
  i2cWrite(address: number, length: number, buffer: Buffer): Promise<BytesWritten>;
  /** SMBus "I2C block read": writes the register pointer, then reads with a repeated start. */
  readI2cBlock(address: number, command: number, length: number, buffer: Buffer): Promise<BytesRead>;
  /** SMBus "write byte data": register pointer then one byte. */
  writeByte(address: number, command: number, byte: number): Promise<void>;
  /** Addresses in [first, last] that answer a one-byte read (as `i2cdetect -r` does). */
  scan(first: number, last: number): Promise<number[]>;
  close(): Promise<void>;
}

/** Opens /dev/i2c-N. Injected so tests and the CLI can hand out a fake bus. */
export type OpenI2CBus = (busNumber: number) => Promise<I2CBus>;

/** Errno codes an I2C transfer gives for a glitch worth retrying (NACK, arbitration loss, timeout). */
const TRANSIENT_CODES = new Set(['EIO', 'ENXIO', 'EREMOTEIO', 'ETIMEDOUT', 'EAGAIN']);

export function isTransientI2CError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && TRANSIENT_CODES.has(String((err as { code?: unknown }).code));
}

/** The chip did not acknowledge: EREMOTEIO on the Raspberry Pi's i2c-bcm2835, ENXIO on some other adapters. */
export function isNack(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return code === 'EREMOTEIO' || code === 'ENXIO';
}

/** `hex(0x76)` is `0x76`, `hex(0x54, 4)` is `0x0054`: addresses and register values in messages. */
export function hex(value: number, digits = 2): string {
  return '0x' + value.toString(16).padStart(digits, '0');
}

/** 7-bit addresses that are not reserved by the I2C specification. */
export function isValidI2CAddress(address: number): boolean {
  return Number.isInteger(address) && address >= 0x03 && address <= 0x77;
}
