import { access, constants } from 'node:fs/promises';
import type * as I2CBusModule from 'i2c-bus';
import type { I2CBus } from './types.js';

/**
 * Opens /dev/i2c-N through i2c-bus. The native module is imported on first use so that machines
 * without it (a laptop running the demo) never load it. i2c-bus itself opens the device file lazily,
 * on the first transfer, so the file is checked here: a missing or forbidden bus is reported when the
 * bus is opened, naming the device file and what to do about it.
 */
export async function openI2CBus(busNumber: number): Promise<I2CBus> {
  const device = `/dev/i2c-${busNumber}`;
  try {
    await access(device, constants.R_OK | constants.W_OK);
  } catch (err) {
    throw describeOpenError(device, err);
  }
  let i2c: typeof I2CBusModule;
  try {
    i2c = await import('i2c-bus');
  } catch (err) {
    throw new Error(`cannot open ${device}: the i2c-bus module did not load (${(err as Error).message})`, { cause: err });
  }
  return i2c.openPromisified(busNumber);
}

function describeOpenError(device: string, err: unknown): Error {
  const code = (err as { code?: string }).code;
  const hint =
    code === 'ENOENT'
      ? ' (no such device: enable I2C with `sudo raspi-config nonint do_i2c 0` or dtparam=i2c_arm=on, then reboot)'
      : code === 'EACCES'
        ? ' (permission denied: add the user to the i2c group)'
        : '';
  const wrapped = new Error(`cannot open ${device}: ${code ?? (err as Error).message}${hint}`, { cause: err });
  return Object.assign(wrapped, { code });
}
