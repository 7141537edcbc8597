import type { BytesRead, BytesWritten, I2CBus } from '../../../drivers/i2c/types.js';
import type { Clock } from '../../../agent/lib/timing.js';
import { errnoError } from '../errno.js';

/**
 * A fake I2C bus at the message level. Every i2c-bus call is decomposed into the I2C messages the
 * kernel would put on the wire (a write, a read, or a write then a read with a repeated start), and each
 * message goes to the chip emulation attached at the address. A missing chip, or a chip refusing a
 * message, NACKs: EREMOTEIO, as the Raspberry Pi's i2c-bcm2835 reports it.
 */

/** One chip's side of the bus. Throw `nack()` to refuse a message. */
export interface FakeChip {
  write(data: Buffer): void;
  read(length: number): Buffer;
}

export function nack(): NodeJS.ErrnoException {
  return errnoError('EREMOTEIO', 'i2c transfer');
}

/** Virtual time shared by the fake chips (conversion times) and the driver's injected clock and sleep. */
export class VirtualClock {
  now = Date.UTC(2025, 0, 15, 12, 0, 0);
  readonly clock: Clock = { now: () => this.now, monotonic: () => this.now };
  readonly sleep = (ms: number): Promise<void> => {
    this.now += Math.max(0, ms);
    return Promise.resolve();
  };
}

export interface Message {
  address: number;
  kind: 'write' | 'read';
  /** Bytes written, or bytes the chip answered. */
  data: number[];
}

/** The physical bus: chips, injected faults, the message log, and the handles opened on it. */
export class FakeI2CHardware {
  readonly messages: Message[] = [];
  opened = 0;
  closed = 0;
  /** The next this many reads report one byte fewer than asked (a chip that stops sending early). */
  shortReads = 0;
  private readonly chips = new Map<number, FakeChip>();
  private faults: Array<{ code: string; address: number | null }> = [];

  constructor(readonly busNumber = 1) {}

  attach(address: number, chip: FakeChip): this {
    this.chips.set(address, chip);
    return this;
  }

  detach(address: number): void {
    this.chips.delete(address);
  }

  /** The next `count` transfers (to `address`, or to any) fail with `code`. */
  failNext(count: number, code = 'EIO', address: number | null = null): void {
    for (let i = 0; i < count; i++) this.faults.push({ code, address });
  }

  /** `deps.openBus` for drivers: /dev/i2c-N exists only for this bus number. */
  readonly open = (busNumber: number): Promise<I2CBus> => {
    if (busNumber !== this.busNumber) return Promise.reject(errnoError('ENOENT', `open '/dev/i2c-${busNumber}'`));
    this.opened++;
    return Promise.resolve(new FakeI2CBus(this));
  };

  /** Messages of one transfer: all reach the chip or, on a fault or NACK, the transfer fails. */
  transfer(address: number, messages: Array<{ write: Buffer } | { read: number }>): Buffer {
    const fault = this.faults.findIndex((f) => f.address === null || f.address === address);
    if (fault >= 0) {
      const [{ code }] = this.faults.splice(fault, 1) as [{ code: string; address: number | null }];
      throw errnoError(code, 'i2c transfer');
    }
    const chip = this.chips.get(address);
    if (!chip) throw nack();
    let answer: Buffer = Buffer.alloc(0);
    for (const message of messages) {
      if ('write' in message) {
        chip.write(message.write);
        this.messages.push({ address, kind: 'write', data: [...message.write] });
      } else {
        answer = chip.read(message.read);
        this.messages.push({ address, kind: 'read', data: [...answer] });
      }
    }
    return answer;
  }

  /** The bytes written to `address`, one array per write message. */
  writesTo(address: number): number[][] {
    return this.messages.filter((m) => m.address === address && m.kind === 'write').map((m) => m.data);
  }
}

/** One open handle, as i2c-bus's PromisifiedBus; calls after close() fail with EBADF. */
class FakeI2CBus implements I2CBus {
  private isClosed = false;

  constructor(private readonly hardware: FakeI2CHardware) {}

  i2cRead(address: number, length: number, buffer: Buffer): Promise<BytesRead> {
    return this.run(() => this.copy(this.hardware.transfer(address, [{ read: length }]), buffer));
  }

  i2cWrite(address: number, length: number, buffer: Buffer): Promise<BytesWritten> {
    return this.run(() => {
      this.hardware.transfer(address, [{ write: Buffer.from(buffer.subarray(0, length)) }]);
      return { bytesWritten: length, buffer };
    });
  }

  readI2cBlock(address: number, command: number, length: number, buffer: Buffer): Promise<BytesRead> {
    return this.run(() => this.copy(this.hardware.transfer(address, [{ write: Buffer.from([command]) }, { read: length }]), buffer));
  }

  writeByte(address: number, command: number, byte: number): Promise<void> {
    return this.run(() => {
      this.hardware.transfer(address, [{ write: Buffer.from([command, byte]) }]);
    });
  }

  /** i2c-bus scans with receiveByte: a one-byte read at each address. */
  scan(first: number, last: number): Promise<number[]> {
    return this.run(() => {
      const found: number[] = [];
      for (let address = first; address <= last; address++) {
        try {
          this.hardware.transfer(address, [{ read: 1 }]);
          found.push(address);
        } catch {
          // silent address
        }
      }
      return found;
    });
  }

  close(): Promise<void> {
    if (!this.isClosed) this.hardware.closed++;
    this.isClosed = true;
    return Promise.resolve();
  }

  private copy(answer: Buffer, buffer: Buffer): BytesRead {
    const short = this.hardware.shortReads > 0;
    if (short) this.hardware.shortReads--;
    answer.copy(buffer);
    return { bytesRead: short ? answer.length - 1 : answer.length, buffer };
  }

  private run<T>(operation: () => T): Promise<T> {
    if (this.isClosed) return Promise.reject(errnoError('EBADF', 'i2c transfer'));
    try {
      return Promise.resolve(operation());
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }
}
