/**
 * `edge-agent sensor scan|read`: finds the temperature sensors on this machine and takes readings from
 * one, printing JSON lines: a user's first check that the sensor is wired and configured right. Its
 * defaults are the configuration schema's (`sensor.*`), except the driver: `auto`, since the point is
 * finding the hardware (the schema's `sim` is the demo's).
 */
import { defineCommand, numberOption, type CommandContext, type OptionValues } from './command.js';
import { configNumberOption } from './config-options.js';
import { defaultConfig } from '../config/load.js';
import type { AgentConfig, SensorConfig } from '../config/types.js';
import { CliError, ExitCode, UsageError } from '../lib/exit-codes.js';
import { hex, openI2CBus, type OpenI2CBus } from '../../drivers/i2c/index.js';
import { createTemperatureSensor, DEFAULT_THERMAL_ROOT, DEFAULT_W1_ROOT, findCpuThermalZone, listDs18b20, probedAddresses, type Reading, scanI2CBus, type SensorDriver } from '../../drivers/sensors/index.js';
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

const usage = ({ sensor }: AgentConfig) => `usage: edge-agent sensor scan [--bus N]
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
  --bus N           I2C bus, /dev/i2c-N (default ${sensor.bus})
  --address A       I2C address, 0x76 or 118 (default: the chip's default; with auto, every known one)
  --device ID       ds18b20: the 28-... device id (default: the first found)
  --file CSV        replay: the CSV file
  --column NAME     replay: the temperature column (default ${sensor.column})
  --speed X         replay: data time runs X times faster than wall time (default ${sensor.speed})
  --count N         readings to take (default 1)
  --interval S      seconds between readings (default ${sensor.interval_s}); for replay, in data time
  --verbose         log what the drivers do (stderr)

Defaults are the configuration schema's (sensor.*), except --driver: auto, to find the hardware (the
daemon's default is sim, the simulated room).`;

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
} as const;

type Values = OptionValues<typeof OPTIONS>;
type Context = CommandContext<typeof OPTIONS>;

/** The machine's hardware, replaced by fakes in tests. */
export interface SensorHardware {
  openBus: OpenI2CBus;
  w1Root: string;
  thermalRoot: string;
  clock: Clock;
  sleep: Sleep;
}

const REAL_HARDWARE: Readonly<SensorHardware> = {
  openBus: openI2CBus,
  w1Root: DEFAULT_W1_ROOT,
  thermalRoot: DEFAULT_THERMAL_ROOT,
  clock: systemClock,
  sleep: abortableSleep,
};

/** The command on the given hardware (tests pass fakes). */
export function sensorCommand(hardware: Partial<SensorHardware> = {}) {
  const machine = { ...REAL_HARDWARE, ...hardware };
  return defineCommand({
    usage,
    options: OPTIONS,
    actions: { scan: [], read: [] },
    run: (context) => (context.action === 'scan' ? scan(context, machine) : read(context, machine)),
  });
}

export const command = sensorCommand();

function print(context: Context, line: object): void {
  context.io.stdout.write(JSON.stringify(line) + '\n');
}

async function scan(context: Context, machine: SensorHardware): Promise<number> {
  const { values } = context;
  for (const name of ['driver', 'address', 'device', 'file', 'column', 'speed', 'count', 'interval'] as const) {
    if (values[name] !== undefined) throw new UsageError(`--${name} only applies to sensor read`);
  }
  const bus = busOption(values, defaultConfig().sensor);
  const i2c = await scanI2CBus(bus, { openBus: machine.openBus, sleep: machine.sleep, listUnknown: true });
  if (i2c.error) context.warn(i2c.error);
  for (const hit of i2c.hits) print(context, { driver: hit.chip, bus, address: hex(hit.address) });
  for (const address of i2c.unknown) print(context, { driver: null, bus, address: hex(address) });
  const ds18b20 = await listDs18b20(machine.w1Root);
  for (const device of ds18b20) print(context, { driver: 'ds18b20', device });
  const zone = await findCpuThermalZone(machine.thermalRoot);
  if (zone) print(context, { driver: 'cpu', zone: zone.zone, type: zone.type });
  if (i2c.hits.length + ds18b20.length > 0) return ExitCode.OK;
  throw new CliError(`no temperature sensor found on /dev/i2c-${bus} or under ${machine.w1Root}`, ExitCode.UNAVAILABLE);
}

async function read(context: Context, machine: SensorHardware): Promise<number> {
  const { values } = context;
  const config = readConfig(values);
  const count = numberOption('count', values.count, (n) => Number.isInteger(n) && n >= 1) ?? 1;
  const sensor = await createTemperatureSensor(config, { ...machine, logger: context.logger });
  let invalid = 0;
  try {
    for (let i = 0; i < count; i++) {
      // A replay paces itself by the file's timestamps; hardware is read every --interval.
      if (i > 0 && !sensor.paced) await machine.sleep(config.interval_s * 1000);
      const reading = await sensor.read();
      if (!reading.valid) invalid++;
      print(context, formatReading(reading));
    }
  } finally {
    await sensor.close();
  }
  return invalid === 0 ? ExitCode.OK : ExitCode.FAILURE;
}

/** The sensor as the daemon would configure it: the schema's defaults, the options on top. */
function readConfig(values: Values): SensorConfig {
  const defaults = defaultConfig().sensor;
  const driver = values.driver ?? 'auto';
  if (!Object.hasOwn(DRIVERS, driver)) throw new UsageError(`--driver: ${JSON.stringify(driver)} is not one of ${Object.keys(DRIVERS).join(', ')}`);
  return {
    driver: driver as SensorDriver,
    bus: busOption(values, defaults),
    address: addressOption(values.address) ?? defaults.address,
    device: values.device ?? defaults.device,
    file: values.file ?? defaults.file,
    column: values.column ?? defaults.column,
    speed: configNumberOption('speed', values.speed, 'sensor.speed') ?? defaults.speed,
    // --count readings, not the daemon's endless loop over the file.
    loop: false,
    interval_s: configNumberOption('interval', values.interval, 'sensor.interval_s') ?? defaults.interval_s,
  };
}

function busOption(values: Values, defaults: SensorConfig): number {
  return configNumberOption('bus', values.bus, 'sensor.bus') ?? defaults.bus;
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
