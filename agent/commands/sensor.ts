/**
 * `edge-agent sensor scan|read`: finds the temperature sensors on this machine and takes readings from
 * one, printing JSON lines: a user's first check that the sensor is wired and configured right.
 */
import { pino } from 'pino';
import type { SensorConfig } from '../config/types.js';
import { numberOption, parseCommandArgs } from './args.js';
import { CliError, ExitCode, UsageError } from '../lib/exit-codes.js';
import { createLogger, type Logger } from '../lib/log.js';
import { hex, openI2CBus, type OpenI2CBus } from '../../drivers/i2c/index.js';
import { createTemperatureSensor, DEFAULT_THERMAL_ROOT, DEFAULT_W1_ROOT, findCpuThermalZone, listDs18b20, probedAddresses, type Reading, scanI2CBus, SensorConfigError, type SensorDriver, SensorNotFoundError } from '../../drivers/sensors/index.js';
import { abortableSleep, systemClock, type Clock, type Sleep } from '../lib/timing.js';

/** Every driver, with the line `--help` shows for it (a Record, so a new driver cannot be forgotten). */
const DRIVERS: Record<Exclude<SensorDriver, 'none'>, string> = {
  auto: 'the best I2C chip found on --bus, else the first DS18B20',
  bme280: 'Bosch BME280 (also takes a BMP280), I2C 0x76/0x77',
  bmp280: 'Bosch BMP280 (also takes a BME280), I2C 0x76/0x77',
  sht3x: 'Sensirion SHT3x, I2C 0x44/0x45',
  sht4x: 'Sensirion SHT4x, I2C 0x44/0x45/0x46',
  mcp9808: 'Microchip MCP9808, I2C 0x18-0x1f',
  tmp117: 'TI TMP117, I2C 0x48-0x4b',
  tmp102: 'TI TMP102, I2C 0x48-0x4b',
  aht20: 'Aosong AHT20, I2C 0x38',
  ds18b20: '1-Wire DS18B20 (--device 28-..., default the first found)',
  cpu: 'the CPU thermal zone',
  replay: 'a CSV time series (--file, --column, --speed)',
  sim: 'a simulated room (daily curve plus noise)',
};

const USAGE = `usage: edge-agent sensor scan [--bus N]
       edge-agent sensor read [--driver NAME] [options]

scan  probes the I2C bus for known temperature chips (${probedAddresses()}) and lists
      1-Wire DS18B20s and the CPU thermal zone, one JSON line each; exits 69 when it finds no I2C or
      1-Wire sensor.
read  takes --count readings and prints each as a JSON line { ts, sensor, valid, celsius | error };
      exits 1 when any reading was invalid.

options:
  --driver NAME     (read) default auto:
${Object.entries(DRIVERS)
  .map(([name, summary]) => `                      ${name.padEnd(8)} ${summary}`)
  .join('\n')}
  --bus N           I2C bus, /dev/i2c-N (default 1)
  --address A       I2C address, 0x76 or 118 (default: the chip's default; with auto, every known one)
  --device ID       ds18b20: the 28-... device id
  --file CSV        replay: the CSV file
  --column NAME     replay: the temperature column (default Temperature)
  --speed X         replay: data time runs X times faster than wall time (default 600)
  --count N         readings to take (default 1)
  --interval S      seconds between readings (default 1); for replay, in data time
  --verbose         log what the drivers do (stderr)`;

const OPTIONS = {
  driver: { type: 'string' },
  bus: { type: 'string' },
  address: { type: 'string' },
  device: { type: 'string' },
  file: { type: 'string' },
  column: { type: 'string' },
  speed: { type: 'string' },
  count: { type: 'string' },
  interval: { type: 'string' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseCommandArgs<typeof OPTIONS>>['values'];

/** The machine's hardware, replaced by fakes in tests. */
export interface SensorCommandDeps {
  openBus?: OpenI2CBus;
  w1Root?: string;
  thermalRoot?: string;
  clock?: Clock;
  sleep?: Sleep;
  logger?: Logger;
  /** Receives each output line (without the newline). */
  print?: (line: string) => void;
  /** Receives each warning line. */
  warn?: (line: string) => void;
}

type Resolved = Required<SensorCommandDeps>;

export async function main(argv: string[], deps: SensorCommandDeps = {}): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS);
  const [action, extra] = positionals;
  if (values.help || action === 'help') {
    (deps.print ?? printLine)(USAGE);
    return ExitCode.OK;
  }
  if (extra !== undefined) throw new UsageError(`sensor: unexpected argument ${JSON.stringify(extra)}`);
  const resolved: Resolved = {
    openBus: deps.openBus ?? openI2CBus,
    w1Root: deps.w1Root ?? DEFAULT_W1_ROOT,
    thermalRoot: deps.thermalRoot ?? DEFAULT_THERMAL_ROOT,
    clock: deps.clock ?? systemClock,
    sleep: deps.sleep ?? abortableSleep,
    // Logs go to stderr: stdout is the JSON lines.
    logger: deps.logger ?? createLogger(values.verbose ? 'debug' : 'warn', pino.destination({ dest: 2, sync: true })),
    print: deps.print ?? printLine,
    warn: deps.warn ?? ((line) => process.stderr.write(line + '\n')),
  };
  if (action === 'scan') return scan(values, resolved);
  if (action === 'read') return read(values, resolved);
  throw new UsageError(action === undefined ? `sensor: scan or read?\n${USAGE}` : `sensor: unknown action ${JSON.stringify(action)} (scan or read)`);
}

function printLine(line: string): void {
  process.stdout.write(line + '\n');
}

async function scan(values: Values, deps: Resolved): Promise<number> {
  for (const name of ['driver', 'address', 'device', 'file', 'column', 'speed', 'count', 'interval'] as const) {
    if (values[name] !== undefined) throw new UsageError(`sensor scan: --${name} only applies to sensor read`);
  }
  const bus = busOption(values);
  const i2c = await scanI2CBus(bus, { openBus: deps.openBus, sleep: deps.sleep, listUnknown: true });
  if (i2c.error) deps.warn(`edge-agent sensor: ${i2c.error}`);
  for (const hit of i2c.hits) deps.print(JSON.stringify({ driver: hit.chip, bus, address: hex(hit.address) }));
  for (const address of i2c.unknown) deps.print(JSON.stringify({ driver: null, bus, address: hex(address) }));
  const ds18b20 = await listDs18b20(deps.w1Root);
  for (const device of ds18b20) deps.print(JSON.stringify({ driver: 'ds18b20', device }));
  const zone = await findCpuThermalZone(deps.thermalRoot);
  if (zone) deps.print(JSON.stringify({ driver: 'cpu', zone: zone.zone, type: zone.type }));
  if (i2c.hits.length + ds18b20.length > 0) return ExitCode.OK;
  throw new CliError(`no temperature sensor found on /dev/i2c-${bus} or under ${deps.w1Root}`, ExitCode.UNAVAILABLE);
}

async function read(values: Values, deps: Resolved): Promise<number> {
  const config = readConfig(values);
  const count = numberOption('count', values.count, (n) => Number.isInteger(n) && n >= 1) ?? 1;
  const sensor = await createTemperatureSensor(config, deps).catch((err: unknown) => {
    throw toCliError(err);
  });
  let invalid = 0;
  try {
    for (let i = 0; i < count; i++) {
      // A replay paces itself by the file's timestamps; hardware is read every --interval.
      if (i > 0 && !sensor.paced) await deps.sleep(config.interval_s * 1000);
      const reading = await sensor.read();
      if (!reading.valid) invalid++;
      deps.print(JSON.stringify(formatReading(reading)));
    }
  } finally {
    await sensor.close();
  }
  return invalid === 0 ? ExitCode.OK : ExitCode.FAILURE;
}

function readConfig(values: Values): SensorConfig {
  const driver = values.driver ?? 'auto';
  if (!Object.hasOwn(DRIVERS, driver)) throw new UsageError(`--driver: ${JSON.stringify(driver)} is not one of ${Object.keys(DRIVERS).join(', ')}`);
  return {
    driver: driver as SensorDriver,
    bus: busOption(values),
    address: addressOption(values.address),
    device: values.device ?? null,
    file: values.file ?? null,
    column: values.column ?? 'Temperature',
    speed: numberOption('speed', values.speed, (n) => Number.isFinite(n) && n > 0) ?? 600,
    loop: false,
    interval_s: numberOption('interval', values.interval, (n) => Number.isFinite(n) && n > 0) ?? 1,
  };
}

function busOption(values: Values): number {
  return numberOption('bus', values.bus, (n) => Number.isInteger(n) && n >= 0) ?? 1;
}

/** `0x76` or `118`. */
function addressOption(raw: string | undefined): number | null {
  if (raw === undefined) return null;
  const value = /^0x[0-9a-f]{1,2}$/i.test(raw) ? Number.parseInt(raw.slice(2), 16) : /^\d{1,3}$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= 0x03 && value <= 0x77)) throw new UsageError(`--address: ${JSON.stringify(raw)} is not an I2C address (0x03..0x77)`);
  return value;
}

function formatReading(reading: Reading): Record<string, unknown> {
  const base = { ts: new Date(reading.ts).toISOString(), sensor: reading.sensor, valid: reading.valid };
  return reading.valid ? { ...base, celsius: reading.celsius } : { ...base, error: reading.error };
}

/** Sensor errors as exit statuses: bad options (2), a missing file (66), nothing found (69). */
function toCliError(err: unknown): unknown {
  if (err instanceof SensorConfigError) return err.code === 'ENOENT' ? new CliError(err.message, ExitCode.NO_INPUT) : new UsageError(err.message);
  if (err instanceof SensorNotFoundError) return new CliError(err.message, ExitCode.UNAVAILABLE);
  return err;
}
