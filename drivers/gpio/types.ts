/** The GPIO settings of the `alarm:` section: which line drives the siren, and how. */
export interface AlarmOutputOptions {
  /** BCM GPIO number; null = log-only alarm. */
  gpio: number | null;
  active_low: boolean;
  /** Override of the sysfs GPIO number base (found from /sys/class/gpio when null). */
  gpio_base: number | null;
}

/** The alarm output seam: a GPIO line through onoff, or a log-only stand-in. */
export interface AlarmOutput {
  readonly name: string;
  set(on: boolean): Promise<void>;
  /** Switches off and releases the line. Idempotent. */
  close(): Promise<void>;
}
