import type { Logger } from '../../agent/lib/log.js';
import { hex, isTransientI2CError, type I2CBus, type OpenI2CBus } from '../i2c/types.js';
import type { ChipDriver, Measure } from './chips/chip.js';
import { I2CDevice } from './chips/i2c-device.js';
import { SensorDataError } from './errors.js';
import { checkedReading, invalidReading } from './reading.js';
import { SerialQueue } from '../../agent/lib/serial-queue.js';
import type { Clock, Sleep } from '../../agent/lib/timing.js';
import type { Reading, TemperatureSensor } from './types.js';

/** How a failing transfer is retried. */
export interface RetryPolicy {
  /** Tries per read() (the first one included). */
  attempts: number;
  /** Wait before the 2nd, 3rd... try; the last entry repeats. */
  backoffMs: readonly number[];
  /** Close and reopen the bus (and redo the chip's setup) after this many failed transfers in a row. */
  reopenAfter: number;
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 3, backoffMs: [20, 100], reopenAfter: 6 };

export interface I2CSensorOptions {
  chip: ChipDriver;
  /** Defaults to `<chip>@<address>`. */
  name?: string;
  busNumber: number;
  address: number;
  openBus: OpenI2CBus;
  logger: Logger;
  clock: Clock;
  sleep: Sleep;
  retry?: RetryPolicy;
}

/**
 * Any I2C chip behind the TemperatureSensor seam. The bus is opened and the chip set up on the first
 * read (a sensor plugged in after start-up just starts working); transient transfer errors are retried
 * with backoff; after `reopenAfter` failures in a row the bus is reopened and the chip set up again
 * (it may have lost power). Reads are serialised: two measurements must not interleave their commands.
 */
export class I2CTemperatureSensor implements TemperatureSensor {
  readonly name: string;
  private readonly retry: RetryPolicy;
  private bus: I2CBus | null = null;
  private measure: Measure | null = null;
  private failuresInARow = 0;
  private closed = false;
  private readonly queue = new SerialQueue();

  constructor(private readonly options: I2CSensorOptions) {
    this.name = options.name ?? `${options.chip.chip}@${hex(options.address)}`;
    this.retry = options.retry ?? DEFAULT_RETRY;
  }

  read(): Promise<Reading> {
    return this.queue.run(() => this.readWithRetries());
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue.drain();
    await this.closeBus();
  }

  private async readWithRetries(): Promise<Reading> {
    const { clock, sleep, chip } = this.options;
    for (let attempt = 1; ; attempt++) {
      if (this.closed) return invalidReading(this.name, clock.now(), 'sensor closed');
      try {
        const celsius = await (await this.ready())();
        this.failuresInARow = 0;
        return checkedReading(this.name, clock.now(), celsius, chip.range);
      } catch (err) {
        if (err instanceof SensorDataError) return invalidReading(this.name, clock.now(), err.message);
        await this.noteFailure(err);
        if (!isTransientI2CError(err) || attempt >= this.retry.attempts) {
          const tries = attempt > 1 ? ` (after ${attempt} attempts)` : '';
          return invalidReading(this.name, clock.now(), `${(err as Error).message}${tries}`);
        }
        this.options.logger.debug({ err, attempt }, 'I2C transfer failed, retrying');
        await sleep(this.retry.backoffMs[Math.min(attempt, this.retry.backoffMs.length) - 1] ?? 0);
      }
    }
  }

  /** Opens the bus and sets the chip up when that has not happened since the last (re)open. */
  private async ready(): Promise<Measure> {
    const { openBus, busNumber, chip, address, sleep } = this.options;
    this.bus ??= await openBus(busNumber);
    this.measure ??= await chip.init(new I2CDevice(this.bus, address, sleep));
    return this.measure;
  }

  private async noteFailure(err: unknown): Promise<void> {
    if (this.bus === null) return; // it did not open: the next read tries again anyway
    this.failuresInARow++;
    if (this.failuresInARow < this.retry.reopenAfter) return;
    this.options.logger.warn(
      { err, sensor: this.name },
      `reopening /dev/i2c-${this.options.busNumber} after ${this.failuresInARow} failed transfers in a row`,
    );
    this.failuresInARow = 0;
    await this.closeBus();
  }

  private async closeBus(): Promise<void> {
    const bus = this.bus;
    this.bus = null;
    this.measure = null;
    if (!bus) return;
    try {
      await bus.close();
    } catch (err) {
      this.options.logger.debug({ err }, 'closing the I2C bus failed');
    }
  }
}
