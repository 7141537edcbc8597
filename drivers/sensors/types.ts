/** The temperature sensor seam: I2C chips, DS18B20, CPU thermal zone, replay, simulation. */

export type Reading =
  | { valid: true; celsius: number; ts: number; sensor: string }
  | { valid: false; error: string; ts: number; sensor: string };

export interface TemperatureSensor {
  /** A short identifier such as `bme280@0x76` or `ds18b20:28-0000075a1b2c`. */
  readonly name: string;
  /**
   * True when read() itself waits until the next reading is due (replay, which follows the file's
   * timestamps): the caller then reads back to back instead of sleeping between reads.
   */
  readonly paced?: boolean;
  /** Never throws: a failure is an invalid reading that carries its reason. `ts` is ms since the epoch. */
  read(): Promise<Reading>;
  close(): Promise<void>;
}
