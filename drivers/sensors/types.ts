/** The temperature sensor seam: I2C chips, DS18B20, CPU thermal zone, replay, simulation. */

/** The `sensor.driver` values that name an I2C chip. */
export const I2C_CHIP_NAMES = ['bme280', 'bmp280', 'sht3x', 'sht4x', 'mcp9808', 'tmp117', 'tmp102', 'aht20'] as const;

/** Every `sensor.driver` value: `auto` probes for a sensor, `none` is no sensor at all. */
export const SENSOR_DRIVERS = ['auto', ...I2C_CHIP_NAMES, 'ds18b20', 'cpu', 'replay', 'sim', 'none'] as const;

export type SensorDriver = (typeof SENSOR_DRIVERS)[number];

/** The `sensor:` section of the configuration: what every sensor driver is built from. */
export interface SensorOptions {
  driver: SensorDriver;
  /** I2C bus number (/dev/i2c-N). */
  bus: number;
  /** I2C address; null = the chip's default (or every known address with `auto`). */
  address: number | null;
  /** ds18b20: the 1-Wire device id (28-...); null = the first one found. */
  device: string | null;
  /** replay: CSV file. */
  file: string | null;
  /** replay: the column holding the temperature. */
  column: string;
  /** replay: speed multiplier (600 = ten hours of data a minute). */
  speed: number;
  /** replay: start again at the first row after the last. */
  loop: boolean;
  /** Seconds between two readings (in data time for replay). */
  interval_s: number;
}

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
  /**
   * Readings from before the start that the sensor can give at once, oldest first (only the simulated
   * sensor has them: the demo's last hour, marked with its own sensor name). The telemetry pipeline stores
   * those newer than what the store already holds.
   */
  history?(): Reading[];
  close(): Promise<void>;
}
