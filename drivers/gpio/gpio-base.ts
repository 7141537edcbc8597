import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Where the 40-pin header's GPIOs sit in the sysfs GPIO number space. Since kernel 6.6 (Bookworm) the
 * numbers no longer start at 0: the header controller's gpiochip has a dynamic base (512 on a Pi 4,
 * 571 on a Pi 5 are typical), and the sysfs number of BCM GPIO n is base + n.
 */

export const DEFAULT_SYSFS_GPIO = '/sys/class/gpio';

/** The controllers that drive the 40-pin header, in order of preference. */
export const HEADER_CONTROLLERS: ReadonlyArray<{ label: string; board: string }> = [
  { label: 'pinctrl-rp1', board: 'Raspberry Pi 5' }, // the Pi 5 header is on the RP1 south bridge
  { label: 'pinctrl-bcm2711', board: 'Raspberry Pi 4' },
  { label: 'pinctrl-bcm2835', board: 'Raspberry Pi 3 or earlier' },
];

export interface GpioChip {
  /** gpiochip512 */
  chip: string;
  label: string;
  base: number;
  ngpio: number;
}

async function readChip(sysfsRoot: string, chip: string): Promise<GpioChip> {
  const field = async (name: string) => (await readFile(join(sysfsRoot, chip, name), 'utf8')).trim();
  return { chip, label: await field('label'), base: Number(await field('base')), ngpio: Number(await field('ngpio')) };
}

/** Every gpiochip under the sysfs GPIO folder. Rejects (ENOENT...) when the folder cannot be read. */
export async function listGpioChips(sysfsRoot: string): Promise<GpioChip[]> {
  const chips = (await readdir(sysfsRoot)).filter((name) => /^gpiochip\d+$/.test(name));
  return Promise.all(chips.map((chip) => readChip(sysfsRoot, chip)));
}

export interface HeaderController extends GpioChip {
  board: string;
}

/** The header's controller among the chips, or null when none is a known Raspberry Pi controller. */
export function findHeaderController(chips: readonly GpioChip[]): HeaderController | null {
  for (const { label, board } of HEADER_CONTROLLERS) {
    const chip = chips.find((c) => c.label === label && Number.isInteger(c.base));
    if (chip) return { ...chip, board };
  }
  return null;
}
