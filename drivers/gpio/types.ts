/** The alarm output seam: a GPIO line through onoff, or a log-only stand-in. */
export interface AlarmOutput {
  readonly name: string;
  set(on: boolean): Promise<void>;
  /** Switches off and releases the line. Idempotent. */
  close(): Promise<void>;
}
