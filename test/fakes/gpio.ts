import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GpioChip } from '../../drivers/gpio/gpio-base.js';
import type { GpioFactory, GpioLine } from '../../drivers/gpio/index.js';
import { errnoError } from './errno.js';

/** The gpiochips of /sys/class/gpio on each board, as Raspberry Pi OS kernels report them. */
export const SYSFS_LAYOUTS: Record<'pi3' | 'pi4' | 'pi5', GpioChip[]> = {
  // Pi 3 on a pre-6.6 kernel: numbers still start at 0.
  pi3: [
    { chip: 'gpiochip0', label: 'pinctrl-bcm2835', base: 0, ngpio: 54 },
    { chip: 'gpiochip504', label: 'raspberrypi-exp-gpio', base: 504, ngpio: 8 },
  ],
  // Pi 4 on Bookworm (6.6+): dynamic bases from 512.
  pi4: [
    { chip: 'gpiochip512', label: 'pinctrl-bcm2711', base: 512, ngpio: 58 },
    { chip: 'gpiochip570', label: 'raspberrypi-exp-gpio', base: 570, ngpio: 8 },
  ],
  // Pi 5: the BCM2712's own GPIO blocks come first; the header is on RP1.
  pi5: [
    { chip: 'gpiochip512', label: 'gpio-brcmstb@107d508500', base: 512, ngpio: 32 },
    { chip: 'gpiochip544', label: 'gpio-brcmstb@107d508520', base: 544, ngpio: 4 },
    { chip: 'gpiochip548', label: 'gpio-brcmstb@107d517c00', base: 548, ngpio: 17 },
    { chip: 'gpiochip565', label: 'gpio-brcmstb@107d517c20', base: 565, ngpio: 6 },
    { chip: 'gpiochip571', label: 'pinctrl-rp1', base: 571, ngpio: 54 },
  ],
};

/** Writes a /sys/class/gpio tree (export, unexport, gpiochipN/{label,base,ngpio}) into a temporary folder. */
export async function createSysfsGpioTree(chips: readonly GpioChip[]): Promise<{ root: string; dispose: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'edge-gpio-'));
  await writeFile(join(root, 'export'), '');
  await writeFile(join(root, 'unexport'), '');
  for (const chip of chips) {
    await mkdir(join(root, chip.chip));
    await writeFile(join(root, chip.chip, 'label'), chip.label + '\n');
    await writeFile(join(root, chip.chip, 'base'), `${chip.base}\n`);
    await writeFile(join(root, chip.chip, 'ngpio'), `${chip.ngpio}\n`);
  }
  return { root, dispose: () => rm(root, { recursive: true, force: true }) };
}

interface ExportedLine {
  activeLow: boolean;
  physical: 0 | 1;
}

/**
 * The kernel's sysfs GPIO behaviour behind onoff's interface: export refuses numbers no gpiochip owns
 * (EINVAL) and lines a kernel driver holds (EBUSY); a line already exported is taken over, as onoff does; 'high'/'low' directions set the physical level raw (before
 * active_low, as gpiolib-sysfs does), values written afterwards are logical. Every physical level a
 * line takes is recorded, so tests can see a glitch.
 */
export class FakeGpioController {
  readonly exported = new Map<number, ExportedLine>();
  /** Physical levels in order, per sysfs number, from the export on. */
  readonly history = new Map<number, Array<0 | 1>>();
  /** sysfs numbers claimed by kernel drivers (1-Wire, I2C...). */
  readonly busy = new Set<number>();
  permissionDenied = false;

  constructor(private readonly chips: readonly GpioChip[]) {}

  readonly factory: GpioFactory = (sysfsNumber, direction, { activeLow }) => {
    if (this.permissionDenied) throw errnoError('EACCES', "open '/sys/class/gpio/export'");
    if (!this.chips.some((c) => sysfsNumber >= c.base && sysfsNumber < c.base + c.ngpio)) throw errnoError('EINVAL', 'write');
    if (this.busy.has(sysfsNumber)) throw errnoError('EBUSY', 'write');
    const line: ExportedLine = { activeLow, physical: direction === 'high' ? 1 : 0 };
    this.exported.set(sysfsNumber, line);
    this.history.set(sysfsNumber, [line.physical]);
    return this.lineFor(sysfsNumber, line);
  };

  /** The physical level of a line, or null when it is not exported. */
  physical(sysfsNumber: number): 0 | 1 | null {
    return this.exported.get(sysfsNumber)?.physical ?? null;
  }

  private lineFor(sysfsNumber: number, line: ExportedLine): GpioLine {
    return {
      write: (value) => {
        if (this.exported.get(sysfsNumber) !== line) return Promise.reject(errnoError('EBADF', 'write'));
        line.physical = (line.activeLow ? 1 - value : value) as 0 | 1;
        this.history.get(sysfsNumber)?.push(line.physical);
        return Promise.resolve();
      },
      unexport: () => {
        this.exported.delete(sysfsNumber);
      },
    };
  }
}
