import type { SensorOptions, TemperatureSensor } from './types.js';
import type { Logger } from '../../agent/lib/log.js';
import { openI2CBus } from '../i2c/open.js';
import { hex, isValidI2CAddress, type OpenI2CBus } from '../i2c/types.js';
import { CHIP_DRIVERS, type ChipDriver } from './chips/index.js';
import { CpuThermalSensor, DEFAULT_THERMAL_ROOT } from './cpu-thermal.js';
import { probedAddresses, scanI2CBus } from './discovery.js';
import { checkDs18b20Id, DEFAULT_W1_ROOT, Ds18b20Sensor, listDs18b20 } from './ds18b20.js';
import { SensorConfigError, SensorNotFoundError } from './errors.js';
import { I2CTemperatureSensor, type RetryPolicy } from './i2c-sensor.js';
import { openReplaySensor } from './replay.js';
import { SimulatedSensor } from './simulated.js';
import { abortableSleep, systemClock, type Clock, type Sleep } from '../../agent/lib/timing.js';

export type { Reading, SensorDriver, SensorOptions, TemperatureSensor } from './types.js';
export { I2C_CHIP_NAMES, SENSOR_DRIVERS } from './types.js';
export { SensorConfigError, SensorNotFoundError } from './errors.js';
export { ReplaySensor } from './replay.js';
export { CHIP_DRIVERS, isI2CChipName } from './chips/index.js';
export { DEFAULT_THERMAL_ROOT, findCpuThermalZone } from './cpu-thermal.js';
export { probedAddresses, scanI2CBus } from './discovery.js';
export { DEFAULT_W1_ROOT, listDs18b20 } from './ds18b20.js';

export interface SensorDeps {
  logger: Logger;
  /** Default: /dev/i2c-N through i2c-bus. */
  openBus?: OpenI2CBus;
  /** Default /sys/bus/w1/devices. */
  w1Root?: string;
  /** Default /sys/class/thermal. */
  thermalRoot?: string;
  /** Time of readings' `ts` and of replay pacing (default the system clock). */
  clock?: Clock;
  /** Conversion waits, retry backoff and replay pacing (default real timers). */
  sleep?: Sleep;
  /** sim: the curve's seed (default 1). */
  seed?: number;
  retry?: RetryPolicy;
}

/** Everything a sensor gets, with defaults filled in. */
type Context = Required<Omit<SensorDeps, 'retry'>> & { retry: RetryPolicy | undefined };

/**
 * Builds the configured sensor. Only configuration problems throw (SensorConfigError), and
 * SensorNotFoundError when `auto` finds nothing; hardware that is missing or failing gives invalid
 * readings instead, so a sensor plugged in later starts working without a restart. Only `auto` touches
 * the hardware here.
 */
export async function createTemperatureSensor(config: SensorOptions, deps: SensorDeps): Promise<TemperatureSensor> {
  const context: Context = {
    logger: deps.logger.child({ module: 'sensor' }),
    openBus: deps.openBus ?? openI2CBus,
    w1Root: deps.w1Root ?? DEFAULT_W1_ROOT,
    thermalRoot: deps.thermalRoot ?? DEFAULT_THERMAL_ROOT,
    clock: deps.clock ?? systemClock,
    sleep: deps.sleep ?? abortableSleep,
    seed: deps.seed ?? 1,
    retry: deps.retry,
  };
  checkBusAndAddress(config);
  switch (config.driver) {
    case 'none':
      throw new SensorConfigError("sensor.driver is 'none': no temperature sensor is configured");
    case 'auto':
      return autoDetect(config, context);
    case 'ds18b20':
      return new Ds18b20Sensor({ w1Root: context.w1Root, device: config.device === null ? null : checkDs18b20Id(config.device), clock: context.clock });
    case 'cpu':
      return new CpuThermalSensor({ thermalRoot: context.thermalRoot, clock: context.clock });
    case 'sim':
      return new SimulatedSensor(context.seed, context.clock);
    case 'replay':
      if (!config.file) throw new SensorConfigError('sensor.driver replay needs sensor.file (a CSV file)');
      return openReplaySensor({
        file: config.file,
        column: config.column,
        speed: config.speed,
        loop: config.loop,
        intervalS: config.interval_s,
        clock: context.clock,
        sleep: context.sleep,
      });
    default: {
      const chip = CHIP_DRIVERS[config.driver];
      return i2cSensor(chip, config.driver, config.bus, config.address ?? (chip.addresses[0] as number), context);
    }
  }
}

function checkBusAndAddress(config: SensorOptions): void {
  if (!Number.isInteger(config.bus) || config.bus < 0) throw new SensorConfigError(`sensor.bus must be an I2C bus number (0, 1, ...), not ${config.bus}`);
  if (config.address !== null && !isValidI2CAddress(config.address)) {
    throw new SensorConfigError(`sensor.address ${config.address} is not a 7-bit I2C address (0x03..0x77)`);
  }
}

/** `chipName` is what the config or the probe called the chip (bmp280 and bme280 share a driver). */
function i2cSensor(chip: ChipDriver, chipName: string, bus: number, address: number, context: Context): I2CTemperatureSensor {
  return new I2CTemperatureSensor({
    chip,
    name: `${chipName}@${hex(address)}`,
    busNumber: bus,
    address,
    openBus: context.openBus,
    logger: context.logger,
    clock: context.clock,
    sleep: context.sleep,
    ...(context.retry ? { retry: context.retry } : {}),
  });
}

/** I2C chips on the configured bus first (best first), then the first DS18B20. */
async function autoDetect(config: SensorOptions, context: Context): Promise<TemperatureSensor> {
  const scan = await scanI2CBus(config.bus, { openBus: context.openBus, sleep: context.sleep, only: config.address });
  const [best, ...others] = scan.hits;
  if (best) {
    context.logger.info({ others: others.map((hit) => `${hit.chip}@${hex(hit.address)}`) }, `auto-detected ${best.chip} at ${hex(best.address)} on /dev/i2c-${config.bus}`);
    return i2cSensor(best.driver, best.chip, config.bus, best.address, context);
  }
  const [device] = await listDs18b20(context.w1Root);
  if (device) {
    context.logger.info(`auto-detected DS18B20 ${device}`);
    return new Ds18b20Sensor({ w1Root: context.w1Root, device, clock: context.clock });
  }
  const i2c = scan.error ?? `no known chip answered on /dev/i2c-${config.bus} at ${probedAddresses(config.address)}`;
  throw new SensorNotFoundError(
    `no temperature sensor found: ${i2c}; no DS18B20 (28-*) under ${context.w1Root}. Set sensor.driver to cpu, sim or replay to run without one`,
  );
}
