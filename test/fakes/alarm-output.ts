/**
 * An in-memory alarm output behind the `AlarmOutput` seam (drivers/gpio/types.ts) that records every
 * level written, like a logic analyser on the pin. It passes the AlarmOutput contract
 * (test/drivers/gpio/contract.test.ts): close() switches the load off, and set() after close() throws.
 */
import type { AlarmOutput } from '../../drivers/gpio/types.js';

export class FakeAlarmOutput implements AlarmOutput {
  readonly name = 'fake';
  /** Every level set() wrote, in order (the switch-off that close() does is not among them). */
  readonly levels: boolean[] = [];
  /** While set, set() fails with this message, as a GPIO write does when the line is gone. */
  failWith: string | null = null;
  private powered = false;
  private closed = false;

  /** Whether the load (siren, relay, light) is powered now. */
  get on(): boolean {
    return this.powered;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async set(on: boolean): Promise<void> {
    if (this.closed) throw new Error(`alarm output ${this.name} is closed`);
    if (this.failWith !== null) throw new Error(this.failWith);
    this.levels.push(on);
    this.powered = on;
  }

  async close(): Promise<void> {
    this.powered = false;
    this.closed = true;
  }
}
