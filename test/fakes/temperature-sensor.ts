/**
 * An in-memory sensor behind the `TemperatureSensor` seam (drivers/sensors/types.ts) that hands out the
 * readings a test scripts, in order, stamped with its own name. It passes the TemperatureSensor contract
 * (test/drivers/sensors/contract.test.ts): it never throws, a failed device gives invalid readings with
 * the reason, and after close() every read is an invalid "closed" reading.
 */
import type { Reading, TemperatureSensor } from '../../drivers/sensors/types.js';

/** A reading as a test scripts it: the sensor adds its name. */
export type ScriptedReading = { valid: true; celsius: number; ts: number } | { valid: false; error: string; ts: number };

export interface FakeTemperatureSensorOptions {
  name?: string;
  /** Wall-clock milliseconds each read() takes (a conversion time); default 0. */
  readMs?: number;
}

export class FakeTemperatureSensor implements TemperatureSensor {
  readonly name: string;
  private readonly readings: Iterator<ScriptedReading>;
  private failure: string | null = null;
  private closed = false;
  /** Reads waiting for a reading after the script ran out; close() answers them. */
  private readonly waiting = new Set<(reading: Reading) => void>();

  /**
   * `readings` may be endless (a generator). Once a finite script has run out, read() waits, as a
   * sensor between two readings does, until close().
   */
  constructor(
    readings: Iterable<ScriptedReading>,
    private readonly options: FakeTemperatureSensorOptions = {},
  ) {
    this.name = options.name ?? 'fake';
    this.readings = readings[Symbol.iterator]();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** From now on every read fails with `error`, as an unplugged device does. */
  fail(error: string): void {
    this.failure = error;
  }

  async read(): Promise<Reading> {
    if (this.options.readMs) await new Promise((resolve) => setTimeout(resolve, this.options.readMs));
    if (this.closed) return this.invalid('the sensor is closed');
    if (this.failure !== null) return this.invalid(this.failure);
    const next = this.readings.next();
    if (!next.done) return { ...next.value, sensor: this.name };
    return new Promise((resolve) => this.waiting.add(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const answer of this.waiting) answer(this.invalid('the sensor is closed'));
    this.waiting.clear();
  }

  private invalid(error: string): Reading {
    return { valid: false, error, ts: Date.now(), sensor: this.name };
  }
}
