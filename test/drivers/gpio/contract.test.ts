import { silentLogger } from '../../../agent/lib/log.js';
import type { AlarmConfig } from '../../../agent/config/types.js';
import { createAlarmOutput, LogOnlyAlarmOutput } from '../../../drivers/gpio/index.js';
import { FakeAlarmOutput } from '../../fakes/alarm-output.js';
import { createSysfsGpioTree, FakeGpioController, SYSFS_LAYOUTS } from '../../fakes/gpio.js';
import { describeAlarmOutputContract, type AlarmUnderTest } from './contract.js';

function alarmConfig(overrides: Partial<AlarmConfig>): AlarmConfig {
  return { gpio: 17, active_low: false, hold_s: 10, gpio_base: null, zones: [], ...overrides };
}

/** createAlarmOutput on a fake sysfs tree of `board` with the kernel's GPIO behaviour behind onoff's interface. */
function onFakeGpio(board: keyof typeof SYSFS_LAYOUTS, config: Partial<AlarmConfig>) {
  return async (): Promise<AlarmUnderTest> => {
    const chips = SYSFS_LAYOUTS[board];
    const tree = await createSysfsGpioTree(chips);
    const controller = new FakeGpioController(chips);
    const full = alarmConfig(config);
    const output = await createAlarmOutput(full, { logger: silentLogger(), sysfsRoot: tree.root, gpioFactory: controller.factory });
    const line = [...controller.history.keys()][0] as number;
    // The load is powered when the last physical level driven was the active one.
    const isOn = () => controller.history.get(line)?.at(-1) === (full.active_low ? 0 : 1);
    return { output, isOn, dispose: tree.dispose };
  };
}

describeAlarmOutputContract('GPIO 17 active high (fake Pi 4 sysfs)', onFakeGpio('pi4', {}));
describeAlarmOutputContract('GPIO 27 active low (fake Pi 5 sysfs)', onFakeGpio('pi5', { gpio: 27, active_low: true }));
describeAlarmOutputContract('log-only (gpio: null)', async () => {
  const output = await createAlarmOutput(alarmConfig({ gpio: null }), { logger: silentLogger() });
  if (!(output instanceof LogOnlyAlarmOutput)) throw new Error(`expected a log-only output, got ${output.name}`);
  return { output, isOn: () => output.state };
});

// The double that the vision and daemon tests use in place of a GPIO line keeps the same promises.
describeAlarmOutputContract('in-memory fake (test/fakes/alarm-output.ts)', async () => {
  const output = new FakeAlarmOutput();
  return { output, isOn: () => output.on };
});

// On a Raspberry Pi, with something harmless on the pin: HW=1 HW_GPIO=17 [HW_ACTIVE_LOW=1] npx vitest run test/drivers/gpio
if (process.env.HW === '1') {
  const gpio = Number(process.env.HW_GPIO ?? 17);
  describeAlarmOutputContract(`hardware: GPIO ${gpio}`, async () => ({
    output: await createAlarmOutput(alarmConfig({ gpio, active_low: process.env.HW_ACTIVE_LOW === '1' }), { logger: silentLogger() }),
  }));
}
