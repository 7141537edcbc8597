import type { AlarmOutput, AlarmOutputOptions } from './types.js';
import type { Logger } from '../../agent/lib/log.js';
import { DEFAULT_SYSFS_GPIO, findHeaderController, HEADER_CONTROLLERS, listGpioChips } from './gpio-base.js';
import { loadOnoffFactory, type GpioFactory } from './gpio-line.js';
import { GpioAlarmOutput, LogOnlyAlarmOutput } from './outputs.js';

export type { AlarmOutput, AlarmOutputOptions } from './types.js';
export type { GpioFactory, GpioLine } from './gpio-line.js';
export { GpioAlarmOutput, LogOnlyAlarmOutput } from './outputs.js';
export { DEFAULT_SYSFS_GPIO, findHeaderController, listGpioChips } from './gpio-base.js';
export type { GpioChip } from './gpio-base.js';

export interface AlarmOutputDeps {
  logger: Logger;
  /** Default /sys/class/gpio. */
  sysfsRoot?: string;
  /** Default: onoff's Gpio. */
  gpioFactory?: GpioFactory;
}

/** alarm.gpio or alarm.gpio_base make no sense (not the hardware's fault). */
export class AlarmConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AlarmConfigError';
  }
}

/** Why the GPIO cannot be used; becomes the warning before falling back to a log-only output. */
class GpioUnavailable extends Error {}

/**
 * The alarm output for the config: the BCM GPIO `alarm.gpio` at sysfs number base + gpio, the base
 * from `alarm.gpio_base` or else from the header controller's gpiochip, starting (and closing) off.
 * `gpio: null` gives a log-only output. When GPIO is not accessible (no sysfs GPIO, permissions,
 * onoff not loadable, the line busy) it warns once with the reason and returns a log-only output: the
 * daemon runs on without its alarm light rather than not at all. Only a nonsensical config throws.
 */
export async function createAlarmOutput(config: AlarmOutputOptions, deps: AlarmOutputDeps): Promise<AlarmOutput> {
  const logger = deps.logger.child({ module: 'alarm-output' });
  if (config.gpio === null) {
    logger.info('alarm.gpio is not set: the alarm is log-only');
    return new LogOnlyAlarmOutput(logger);
  }
  const pin = config.gpio;
  if (!Number.isInteger(pin) || pin < 0) throw new AlarmConfigError(`alarm.gpio must be a BCM GPIO number (0-27 on the header), not ${pin}`);
  if (config.gpio_base !== null && (!Number.isInteger(config.gpio_base) || config.gpio_base < 0)) {
    throw new AlarmConfigError(`alarm.gpio_base must be a non-negative integer, not ${config.gpio_base}`);
  }
  const sysfsRoot = deps.sysfsRoot ?? DEFAULT_SYSFS_GPIO;
  try {
    const base = config.gpio_base ?? (await headerBase(sysfsRoot, pin));
    const factory = deps.gpioFactory ?? (await loadOnoff());
    // The physical level the line starts at, chosen so that the alarm starts off.
    const line = await exportLine(factory, base + pin, config.active_low ? 'high' : 'low', config.active_low, { pin, base, sysfsRoot });
    logger.info({ gpio: pin, sysfs_gpio: base + pin, active_low: config.active_low }, `alarm output on GPIO ${pin}`);
    return new GpioAlarmOutput(line, pin, logger);
  } catch (err) {
    if (!(err instanceof GpioUnavailable)) throw err;
    logger.warn({ gpio: pin, reason: err.message }, `GPIO ${pin} is not accessible, the alarm is log-only: ${err.message}`);
    return new LogOnlyAlarmOutput(logger);
  }
}

async function headerBase(sysfsRoot: string, pin: number): Promise<number> {
  let chips;
  try {
    chips = await listGpioChips(sysfsRoot);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new GpioUnavailable(
      code === 'ENOENT' ? `no ${sysfsRoot}: this kernel has no sysfs GPIO interface` : `cannot read ${sysfsRoot}: ${code ?? (err as Error).message}`,
    );
  }
  const controller = findHeaderController(chips);
  if (!controller) {
    const found = chips.map((c) => `${c.chip} (${c.label})`).join(', ') || 'no gpiochip';
    const known = HEADER_CONTROLLERS.map((c) => c.label).join(', ');
    throw new GpioUnavailable(`no Raspberry Pi GPIO controller (${known}) in ${sysfsRoot}, found ${found}; set alarm.gpio_base`);
  }
  if (pin >= controller.ngpio) {
    throw new AlarmConfigError(`alarm.gpio ${pin} does not exist: ${controller.label} (${controller.board}) has GPIO 0-${controller.ngpio - 1}`);
  }
  return controller.base;
}

async function loadOnoff(): Promise<GpioFactory> {
  try {
    return await loadOnoffFactory();
  } catch (err) {
    throw new GpioUnavailable(`cannot load onoff: ${(err as Error).message}`);
  }
}

async function exportLine(
  factory: GpioFactory,
  sysfsNumber: number,
  direction: 'high' | 'low',
  activeLow: boolean,
  where: { pin: number; base: number; sysfsRoot: string },
) {
  try {
    return await factory(sysfsNumber, direction, { activeLow });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const line = `GPIO ${where.pin} (sysfs ${sysfsNumber} = base ${where.base} + ${where.pin})`;
    const reasons: Record<string, string> = {
      EACCES: `permission denied exporting ${line}: add the user to the gpio group`,
      EBUSY: `${line} is in use by another driver or program`,
      EINVAL: `the kernel refused ${line}: check alarm.gpio_base`,
      ENOENT: `no ${where.sysfsRoot}/export: this kernel has no sysfs GPIO interface`,
    };
    throw new GpioUnavailable(reasons[code ?? ''] ?? `cannot export ${line}: ${(err as Error).message}`);
  }
}
