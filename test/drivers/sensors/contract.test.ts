import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger } from '../../../agent/lib/log.js';
import type { SensorDriver } from '../../../drivers/sensors/types.js';
import { createTemperatureSensor } from '../../../drivers/sensors/index.js';
import { FakeAht20 } from '../../fakes/i2c/aht20.js';
import { FakeBme280 } from '../../fakes/i2c/bme280.js';
import { VirtualClock, type FakeChip } from '../../fakes/i2c/fake-bus.js';
import { FakeMcp9808 } from '../../fakes/i2c/mcp9808.js';
import { FakeSht3x, FakeSht4x } from '../../fakes/i2c/sensirion.js';
import { FakeTmp102, FakeTmp117 } from '../../fakes/i2c/ti-tmp.js';
import { createThermalTree, FakeW1Tree } from '../../fakes/sysfs-sensors.js';
import { FakeTemperatureSensor, type ScriptedReading } from '../../fakes/temperature-sensor.js';
import { fixture } from '../../helpers/fixtures.js';
import { describeSensorContract, sensorConfig, type SensorUnderTest } from './contract.js';
import { rig } from './rig.js';

type ChipFake = FakeChip & { celsius: number };

/** A sensor built by the factory over a fake bus holding one emulated chip set to `celsius`. */
function onFakeBus(driver: SensorDriver, address: number, makeChip: (clock: VirtualClock) => ChipFake, celsius: number, tolerance: number) {
  return async (): Promise<SensorUnderTest> => {
    const { sensor, chip, hardware } = await rig(driver, address, makeChip);
    chip.celsius = celsius;
    return { sensor, expectedCelsius: celsius, tolerance, breakDevice: () => hardware.detach(address) };
  };
}

const breakable = { breakable: true };

describeSensorContract('bme280 (emulated)', onFakeBus('bme280', 0x76, (c) => new FakeBme280(c), 23.4, 0.011), breakable);
describeSensorContract('bmp280 (emulated)', onFakeBus('bmp280', 0x76, (c) => new FakeBme280(c, 'bmp280'), -4.2, 0.011), breakable);
describeSensorContract('sht3x (emulated)', onFakeBus('sht3x', 0x44, (c) => new FakeSht3x(c), 19.87, 0.003), breakable);
describeSensorContract('sht4x (emulated)', onFakeBus('sht4x', 0x44, (c) => new FakeSht4x(c), 27.31, 0.003), breakable);
describeSensorContract('mcp9808 (emulated)', onFakeBus('mcp9808', 0x18, () => new FakeMcp9808(), -7.25, 0), breakable);
describeSensorContract('tmp117 (emulated)', onFakeBus('tmp117', 0x48, (c) => new FakeTmp117(c), -12.5078125, 0), breakable);
describeSensorContract('tmp102 (emulated)', onFakeBus('tmp102', 0x48, () => new FakeTmp102(), 31.0625, 0), breakable);
describeSensorContract('aht20 (emulated)', onFakeBus('aht20', 0x38, (c) => new FakeAht20(c), 22.22, 0.0002), breakable);
describeSensorContract('auto (emulated SHT4x)', onFakeBus('auto', 0x44, (c) => new FakeSht4x(c), 20.5, 0.003), breakable);

describeSensorContract(
  'ds18b20 (fake sysfs)',
  async () => {
    const tree = await FakeW1Tree.create();
    await tree.addBusMaster();
    await tree.setTemperature('28-00000a1b2c3d', 21.4375);
    const sensor = await createTemperatureSensor(sensorConfig({ driver: 'ds18b20' }), { logger: silentLogger(), w1Root: tree.root });
    // w1_therm reports whole millidegrees: 21.4375 °C reads 21.437.
    return { sensor, expectedCelsius: 21.4375, tolerance: 0.001, breakDevice: () => tree.remove('28-00000a1b2c3d'), dispose: () => tree.dispose() };
  },
  breakable,
);

describeSensorContract(
  'cpu thermal zone (fake sysfs)',
  async () => {
    const root = await createThermalTree([{ type: 'cpu-thermal', temp: '47236' }]);
    const sensor = await createTemperatureSensor(sensorConfig({ driver: 'cpu' }), { logger: silentLogger(), thermalRoot: root });
    return {
      sensor,
      expectedCelsius: 47.236,
      tolerance: 0,
      breakDevice: () => writeFile(join(root, 'thermal_zone0', 'temp'), ''),
      dispose: () => rm(root, { recursive: true, force: true }),
    };
  },
  breakable,
);

describeSensorContract('replay (occupancy datatest.txt)', async () => {
  const clock = new VirtualClock();
  const file = fixture('data/occupancy/datatest.txt');
  const sensor = await createTemperatureSensor(sensorConfig({ driver: 'replay', file }), { logger: silentLogger(), clock: clock.clock, sleep: clock.sleep });
  return { sensor, expectedCelsius: 23.7, tolerance: 0 };
});

describeSensorContract('sim', async () => {
  const clock = new VirtualClock();
  return { sensor: await createTemperatureSensor(sensorConfig({ driver: 'sim' }), { logger: silentLogger(), clock: clock.clock }) };
});

// The double that the telemetry and daemon tests use in place of a driver keeps the same promises.
describeSensorContract(
  'in-memory fake (test/fakes/temperature-sensor.ts)',
  async () => {
    function* everySecond(): Generator<ScriptedReading> {
      for (let ts = Date.now(); ; ts += 1000) yield { valid: true, celsius: 21.5, ts };
    }
    const sensor = new FakeTemperatureSensor(everySecond());
    return { sensor, expectedCelsius: 21.5, tolerance: 0, breakDevice: () => sensor.fail('EIO: the device did not answer') };
  },
  breakable,
);

// On a Raspberry Pi with a sensor attached: HW=1 [HW_SENSOR=driver] [HW_I2C_BUS=1] npx vitest run test/drivers/sensors
if (process.env.HW === '1') {
  const driver = (process.env.HW_SENSOR ?? 'auto') as SensorDriver;
  const bus = Number(process.env.HW_I2C_BUS ?? 1);
  describeSensorContract(`hardware: ${driver} on /dev/i2c-${bus}`, async () => ({
    sensor: await createTemperatureSensor(sensorConfig({ driver, bus }), { logger: silentLogger() }),
  }));
}
