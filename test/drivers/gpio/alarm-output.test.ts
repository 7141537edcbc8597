import { afterEach, describe, expect, it } from 'vitest';
import type { AlarmConfig } from '../../../agent/config/types.js';
import { createLogger } from '../../../agent/lib/log.js';
import { findHeaderController, listGpioChips } from '../../../drivers/gpio/gpio-base.js';
import { AlarmConfigError, createAlarmOutput, GpioAlarmOutput, LogOnlyAlarmOutput, type GpioFactory } from '../../../drivers/gpio/index.js';
import { loadOnoffFactory } from '../../../drivers/gpio/gpio-line.js';
import { createSysfsGpioTree, FakeGpioController, SYSFS_LAYOUTS } from '../../fakes/gpio.js';

function alarmConfig(overrides: Partial<AlarmConfig>): AlarmConfig {
  return { gpio: 17, active_low: false, hold_s: 10, gpio_base: null, zones: [], ...overrides };
}

const disposers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(disposers.splice(0).map((d) => d()));
});

/** A fake board: its sysfs tree, its GPIO controller, and a logger whose lines the test can read. */
async function board(layout: keyof typeof SYSFS_LAYOUTS) {
  const chips = SYSFS_LAYOUTS[layout];
  const tree = await createSysfsGpioTree(chips);
  disposers.push(tree.dispose);
  const lines: Array<{ level: number; msg: string; reason?: string }> = [];
  const logger = createLogger('info', { write: (line: string) => lines.push(JSON.parse(line)) });
  return { root: tree.root, controller: new FakeGpioController(chips), logger, warnings: () => lines.filter((l) => l.level === 40) };
}

describe('sysfs GPIO base', () => {
  it.each([
    ['pi3', 'pinctrl-bcm2835', 0],
    ['pi4', 'pinctrl-bcm2711', 512],
    ['pi5', 'pinctrl-rp1', 571],
  ] as const)('finds the header controller of a %s tree', async (layout, label, base) => {
    const { root } = await board(layout);
    expect(findHeaderController(await listGpioChips(root))).toMatchObject({ label, base });
  });

  it.each([
    ['pi3', 17, 17],
    ['pi4', 17, 529],
    ['pi5', 17, 588],
    ['pi5', 0, 571],
    ['pi5', 27, 598],
  ] as const)('on a %s, BCM GPIO %d is sysfs GPIO %d', async (layout, gpio, sysfs) => {
    const { root, controller, logger } = await board(layout);
    const output = await createAlarmOutput(alarmConfig({ gpio }), { logger, sysfsRoot: root, gpioFactory: controller.factory });
    expect(output).toBeInstanceOf(GpioAlarmOutput);
    await output.set(true);
    expect(controller.physical(sysfs)).toBe(1);
    await output.close();
  });

  it('uses alarm.gpio_base instead of the tree when set', async () => {
    const { root, controller, logger } = await board('pi5');
    const output = await createAlarmOutput(alarmConfig({ gpio: 17, gpio_base: 512 }), { logger, sysfsRoot: root, gpioFactory: controller.factory });
    await output.set(true);
    expect([...controller.exported.keys()]).toEqual([529]);
    await output.close();
  });
});

describe('GPIO alarm output', () => {
  it('with active_low, starts high (off) without a glitch, drives low for on, and ends high and unexported', async () => {
    const { root, controller, logger } = await board('pi4');
    const output = await createAlarmOutput(alarmConfig({ active_low: true }), { logger, sysfsRoot: root, gpioFactory: controller.factory });
    await output.set(true);
    expect(controller.physical(529)).toBe(0);
    await output.set(false);
    await output.close();
    expect(controller.history.get(529)).toEqual([1, 0, 1, 1]);
    expect(controller.exported.size).toBe(0);
  });

  it('active high starts low and ends low', async () => {
    const { root, controller, logger } = await board('pi5');
    const output = await createAlarmOutput(alarmConfig({}), { logger, sysfsRoot: root, gpioFactory: controller.factory });
    await output.set(true);
    await output.close();
    expect(controller.history.get(588)).toEqual([0, 1, 0]);
  });

  it('rejects a GPIO the header controller does not have, and a negative base', async () => {
    const { root, controller, logger } = await board('pi4');
    const deps = { logger, sysfsRoot: root, gpioFactory: controller.factory };
    await expect(createAlarmOutput(alarmConfig({ gpio: 58 }), deps)).rejects.toThrow(new AlarmConfigError('alarm.gpio 58 does not exist: pinctrl-bcm2711 (Raspberry Pi 4) has GPIO 0-57'));
    await expect(createAlarmOutput(alarmConfig({ gpio: -1 }), deps)).rejects.toThrow(AlarmConfigError);
    await expect(createAlarmOutput(alarmConfig({ gpio_base: -5 }), deps)).rejects.toThrow(/alarm.gpio_base must be a non-negative integer/);
  });
});

describe('falling back to a log-only output', () => {
  async function fallback(setup: (b: Awaited<ReturnType<typeof board>>) => { sysfsRoot?: string; gpioFactory?: GpioFactory; config?: Partial<AlarmConfig> }) {
    const b = await board('pi4');
    const { sysfsRoot = b.root, gpioFactory = b.controller.factory, config = {} } = setup(b);
    const output = await createAlarmOutput(alarmConfig(config), { logger: b.logger, sysfsRoot, gpioFactory });
    expect(output).toBeInstanceOf(LogOnlyAlarmOutput);
    await output.set(true);
    await output.close();
    const warnings = b.warnings();
    expect(warnings).toHaveLength(1);
    return warnings[0]?.reason;
  }

  it('when the kernel has no sysfs GPIO', async () => {
    expect(await fallback(() => ({ sysfsRoot: '/nonexistent/sys/class/gpio' }))).toBe('no /nonexistent/sys/class/gpio: this kernel has no sysfs GPIO interface');
  });

  it('when no gpiochip is a Raspberry Pi controller', async () => {
    const other = await createSysfsGpioTree([{ chip: 'gpiochip0', label: 'gpio-mockup-A', base: 0, ngpio: 8 }]);
    disposers.push(other.dispose);
    expect(await fallback(() => ({ sysfsRoot: other.root }))).toBe(
      `no Raspberry Pi GPIO controller (pinctrl-rp1, pinctrl-bcm2711, pinctrl-bcm2835) in ${other.root}, found gpiochip0 (gpio-mockup-A); set alarm.gpio_base`,
    );
  });

  it('when exporting is not permitted', async () => {
    expect(
      await fallback(({ controller }) => {
        controller.permissionDenied = true;
        return {};
      }),
    ).toBe('permission denied exporting GPIO 17 (sysfs 529 = base 512 + 17): add the user to the gpio group');
  });

  it('when another driver holds the line', async () => {
    expect(
      await fallback(({ controller }) => {
        controller.busy.add(516);
        return { config: { gpio: 4 } };
      }),
    ).toBe('GPIO 4 (sysfs 516 = base 512 + 4) is in use by another driver or program');
  });

  it('when the kernel refuses the number (a wrong gpio_base)', async () => {
    expect(await fallback(() => ({ config: { gpio_base: 0 } }))).toBe('the kernel refused GPIO 17 (sysfs 17 = base 0 + 17): check alarm.gpio_base');
  });

  it('and logs the alarm instead', async () => {
    const lines: Array<{ msg: string; alarm?: string }> = [];
    const logger = createLogger('info', { write: (line: string) => lines.push(JSON.parse(line)) });
    const output = await createAlarmOutput(alarmConfig({ gpio: null }), { logger });
    await output.set(true);
    await output.set(true);
    await output.set(false);
    expect(lines.filter((l) => l.alarm).map((l) => l.msg)).toEqual(['alarm on (log-only output)', 'alarm off (log-only output)']);
  });
});

describe('onoff', () => {
  it('loads as the default GPIO factory', async () => {
    expect(await loadOnoffFactory()).toBeTypeOf('function');
  });
});
