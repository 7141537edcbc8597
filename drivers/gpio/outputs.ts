import type { Logger } from '../../agent/lib/log.js';
import type { GpioLine } from './gpio-line.js';
import type { AlarmOutput } from './types.js';

/** The alarm on a GPIO line (a buzzer, a relay, a light). */
export class GpioAlarmOutput implements AlarmOutput {
  readonly name: string;
  private closed = false;

  constructor(
    private readonly line: GpioLine,
    /** BCM number, for names and messages. */
    private readonly pin: number,
    private readonly logger: Logger,
  ) {
    this.name = `gpio${pin}`;
  }

  async set(on: boolean): Promise<void> {
    if (this.closed) throw new Error(`alarm output ${this.name} is closed`);
    await this.line.write(on ? 1 : 0);
    this.logger.debug({ gpio: this.pin, on }, 'alarm output set');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.line.write(0);
    } finally {
      this.line.unexport();
    }
  }
}

/** Stands in when there is no GPIO to drive: the alarm still happens, in the log. */
export class LogOnlyAlarmOutput implements AlarmOutput {
  readonly name = 'log-only';
  private closed = false;
  private on = false;

  constructor(private readonly logger: Logger) {}

  set(on: boolean): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`alarm output ${this.name} is closed`));
    if (on !== this.on) this.logger.info({ alarm: on ? 'on' : 'off' }, `alarm ${on ? 'on' : 'off'} (log-only output)`);
    this.on = on;
    return Promise.resolve();
  }

  /** Whether the alarm is on. */
  get state(): boolean {
    return this.on;
  }

  close(): Promise<void> {
    if (!this.closed && this.on) this.logger.info({ alarm: 'off' }, 'alarm off (log-only output closed)');
    this.closed = true;
    this.on = false;
    return Promise.resolve();
  }
}
