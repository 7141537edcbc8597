/**
 * Checks of the hardware the configuration names: the camera (its program and one real capture through
 * the agent's own driver), the temperature sensor (the I2C bus, the chip, one reading) and the alarm's
 * GPIO (sysfs access and the gpiochip base that maps BCM numbers to sysfs numbers).
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { CAMERA_PROGRAMS, createCamera, findFirstExecutable, frameSize, type CameraOptions, type Frame } from '../../drivers/camera/index.js';
import { findHeaderController, listGpioChips, type GpioChip } from '../../drivers/gpio/index.js';
import { hex } from '../../drivers/i2c/index.js';
import { CHIP_DRIVERS, createTemperatureSensor, isI2CChipName, probedAddresses, scanI2CBus } from '../../drivers/sensors/index.js';
import { abortableSleep, valueWithin } from '../lib/timing.js';
import type { CameraConfig } from '../config/types.js';
import { cameraProfiles } from '../vision/camera-profiles.js';
import { fail, pass, warn, type Check, type CheckResult, type DoctorContext } from './types.js';

const INSTALL_HINT: Partial<Record<CameraConfig['driver'], string>> = {
  rpicam: 'sudo apt install rpicam-apps',
  still: 'sudo apt install rpicam-apps',
  ffmpeg: 'sudo apt install ffmpeg',
};

/** The first frame of a started camera, or null after `timeoutMs`. */
function firstFrame(frames: AsyncIterable<Frame>, timeoutMs: number): Promise<Frame | null> {
  const first = frames[Symbol.asyncIterator]().next().then((r) => (r.done ? null : r.value));
  return valueWithin(first, timeoutMs, null);
}

/** Each camera of the configuration, one capture each; with several, every line names its camera and the worst result counts. */
export const cameraCheck: Check = {
  id: 'camera',
  title: 'camera',
  required: true,
  async run(context) {
    const cameras = context.config.intruder.enabled ? cameraProfiles(context.config) : [];
    if (cameras.length === 0) return pass('no camera configured (intruder detection is off)');
    if (cameras.length === 1 && cameras[0]!.topicName === null) return checkCamera(cameras[0]!.driver, 'the camera section', context);
    const results: CheckResult[] = [];
    for (const camera of cameras) {
      const result = await checkCamera(camera.driver, `cameras.${camera.name}`, context);
      results.push({ ...result, message: `${camera.name}: ${result.message}`, ...(result.hint ? { hint: `${camera.name}: ${result.hint}` } : {}) });
    }
    const worst = results.find((r) => r.status === 'fail') ?? results.find((r) => r.status === 'warn');
    return { ...(worst ?? results[0]!), message: results.map((r) => r.message).join('; ') };
  },
};

async function checkCamera(camera: CameraOptions, section: string, { env, logger, timeoutMs }: DoctorContext): Promise<CheckResult> {
  const programs = CAMERA_PROGRAMS[camera.driver];
  let program = '';
  if (programs) {
    const found = findFirstExecutable(programs, env);
    if (!found) return fail(`${programs.join(' or ')} not found on PATH`, INSTALL_HINT[camera.driver] ?? 'install the capture program');
    program = `${found.path}: `;
  }
  let device;
  try {
    device = createCamera(camera, { logger, env });
  } catch (err) {
    return fail((err as Error).message, `fix ${section} of the configuration`);
  }
  const started = performance.now();
  try {
    await device.start();
    const frame = await firstFrame(device, timeoutMs);
    if (!frame) {
      const why = device.stats().last_error ?? 'no frame came';
      return fail(`${program}no frame within ${timeoutMs / 1000} s (${why})`, 'check the ribbon cable and `rpicam-hello --list-cameras` (or the device/URL), then run doctor again');
    }
    const { width, height } = await frameSize(frame.image);
    const ms = Math.round(performance.now() - started);
    const format = frame.image.format === 'jpeg' ? 'JPEG' : 'yuv420';
    return pass(`${program}captured a ${width}x${height} ${format} frame (${Math.round(frame.image.data.length / 1024)} KB) in ${ms} ms`);
  } catch (err) {
    return fail(`${program}capture failed: ${(err as Error).message}`, 'run the capture command by hand to see its error');
  } finally {
    await device.stop();
  }
}

async function i2cPresence(context: DoctorContext): Promise<CheckResult | string> {
  const { sensor } = context.config;
  const scan = await scanI2CBus(sensor.bus, { openBus: context.openBus, sleep: abortableSleep, only: sensor.address });
  if (scan.error) return fail(scan.error, 'enable I2C (sudo raspi-config nonint do_i2c 0), reboot, and add the user to the i2c group');
  const wanted = sensor.driver;
  const hit = wanted === 'auto' ? scan.hits[0] : scan.hits.find((h) => isI2CChipName(wanted) && CHIP_DRIVERS[h.chip] === CHIP_DRIVERS[wanted]);
  if (!hit) {
    const others = scan.hits.map((h) => `${h.chip} at ${hex(h.address)}`).join(', ');
    const what = wanted === 'auto' ? 'no known sensor' : `no ${wanted}`;
    return fail(
      `${what} answers on /dev/i2c-${sensor.bus} at ${probedAddresses(sensor.address)}${others ? ` (found: ${others})` : ''}`,
      others ? `set sensor.driver to the chip found (or auto)` : 'check the wiring (3.3 V, GND, SDA = GPIO 2, SCL = GPIO 3) and `i2cdetect -y 1`',
    );
  }
  return `${hit.chip} at ${hex(hit.address)} on /dev/i2c-${sensor.bus}`;
}

export const sensorCheck: Check = {
  id: 'sensor',
  title: 'sensor',
  required: true,
  async run(context) {
    const { sensor } = context.config;
    if (sensor.driver === 'none') return pass('no temperature sensor configured');
    let found = '';
    if (sensor.driver === 'auto' || isI2CChipName(sensor.driver)) {
      const presence = await i2cPresence(context);
      if (typeof presence !== 'string') return presence;
      found = `${presence}: `;
    }
    let device;
    try {
      device = await createTemperatureSensor(sensor, { logger: context.logger, openBus: context.openBus, w1Root: context.sysfs.w1, thermalRoot: context.sysfs.thermal });
    } catch (err) {
      return fail((err as Error).message, 'fix the sensor section of the configuration');
    }
    try {
      const reading = await device.read();
      if (!reading.valid) return fail(`${found}${device.name} gave no valid reading: ${reading.error}`, 'check the wiring and the sensor; a reading every few seconds must succeed');
      return pass(`${found}${device.name} reads ${reading.celsius.toFixed(2)} °C`);
    } finally {
      await device.close();
    }
  },
};

function describeChip(chip: GpioChip): string {
  return `${chip.chip} (${chip.label}, base ${chip.base})`;
}

export const gpioCheck: Check = {
  id: 'gpio',
  title: 'alarm GPIO',
  required: true,
  async run({ config, sysfs }) {
    const { gpio, gpio_base: baseOverride } = config.alarm;
    if (gpio === null) return pass('no alarm GPIO configured (the alarm only logs)');
    let chips: GpioChip[];
    try {
      chips = await listGpioChips(sysfs.gpio);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      return fail(`cannot read ${sysfs.gpio} (${code})`, 'the kernel needs sysfs GPIO (CONFIG_GPIO_SYSFS, on in Raspberry Pi OS kernels)');
    }
    const header = findHeaderController(chips);
    if (baseOverride === null && !header) {
      return fail(
        `no Raspberry Pi header controller among ${chips.map(describeChip).join(', ') || 'no gpiochip'}`,
        'set alarm.gpio_base to the base of the gpiochip that drives the header',
      );
    }
    try {
      await access(join(sysfs.gpio, 'export'), constants.W_OK);
    } catch {
      return fail(`${join(sysfs.gpio, 'export')} is not writable`, "add the agent's user to the gpio group (sudo usermod -aG gpio $USER), then log in again");
    }
    const base = baseOverride ?? header!.base;
    const source = baseOverride !== null ? 'alarm.gpio_base' : `${describeChip(header!)}, ${header!.board}`;
    const mapped = `BCM GPIO ${gpio} is sysfs GPIO ${base + gpio} (${source})`;
    if (header && baseOverride !== null && baseOverride !== header.base) {
      return warn(mapped, `alarm.gpio_base ${baseOverride} differs from the header controller's base ${header.base}: remove it unless you know why`);
    }
    return pass(mapped);
  },
};
