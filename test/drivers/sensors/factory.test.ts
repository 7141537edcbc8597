import { afterEach, describe, expect, it } from 'vitest';
import type { SensorConfig } from '../../../agent/config/types.js';
import { silentLogger } from '../../../agent/lib/log.js';
import { createTemperatureSensor, SensorConfigError, SensorNotFoundError } from '../../../drivers/sensors/index.js';
import { FakeBme280 } from '../../fakes/i2c/bme280.js';
import { FakeI2CHardware, VirtualClock } from '../../fakes/i2c/fake-bus.js';
import { FakeMcp9808 } from '../../fakes/i2c/mcp9808.js';
import { WordRegisterChip } from '../../fakes/i2c/register-chip.js';
import { FakeSht3x, FakeSht4x } from '../../fakes/i2c/sensirion.js';
import { FakeTmp102, FakeTmp117 } from '../../fakes/i2c/ti-tmp.js';
import { FakeW1Tree } from '../../fakes/sysfs-sensors.js';
import { sensorConfig } from './contract.js';

/** An ADS1115 ADC, the usual other tenant of 0x48: configuration register reset value 0x8583. */
class FakeAds1115 extends WordRegisterChip {
  protected readRegister(register: number): number {
    return register === 0x01 ? 0x8583 : 0;
  }
}

const trees: FakeW1Tree[] = [];
afterEach(async () => {
  await Promise.all(trees.splice(0).map((t) => t.dispose()));
});

async function emptyW1(): Promise<FakeW1Tree> {
  const tree = await FakeW1Tree.create();
  trees.push(tree);
  await tree.addBusMaster();
  return tree;
}

/** The chips' virtual clock is shared with the driver, so conversion waits elapse. */
async function create(hardware: FakeI2CHardware, overrides: Partial<SensorConfig> = {}, w1Root?: string, clock = new VirtualClock()) {
  return createTemperatureSensor(sensorConfig(overrides), {
    logger: silentLogger(),
    openBus: hardware.open,
    clock: clock.clock,
    sleep: clock.sleep,
    w1Root: w1Root ?? (await emptyW1()).root,
  });
}

describe('sensor: auto', () => {
  it('picks the most accurate chip on the bus', async () => {
    const clock = new VirtualClock();
    const hardware = new FakeI2CHardware(1).attach(0x76, new FakeBme280(clock)).attach(0x18, new FakeMcp9808()).attach(0x48, new FakeTmp117(clock));
    expect((await create(hardware)).name).toBe('tmp117@0x48');
    hardware.detach(0x48);
    expect((await create(hardware)).name).toBe('mcp9808@0x18');
    hardware.detach(0x18);
    expect((await create(hardware)).name).toBe('bme280@0x76');
  });

  it('tells an SHT4x from an SHT3x at the same address', async () => {
    const clock = new VirtualClock();
    expect((await create(new FakeI2CHardware(1).attach(0x44, new FakeSht3x(clock)), {}, undefined, clock)).name).toBe('sht3x@0x44');
    expect((await create(new FakeI2CHardware(1).attach(0x44, new FakeSht4x(clock)), {}, undefined, clock)).name).toBe('sht4x@0x44');
    expect((await create(new FakeI2CHardware(1).attach(0x46, new FakeSht4x(clock)), {}, undefined, clock)).name).toBe('sht4x@0x46');
  });

  it('tells a TMP117 from a TMP102, and neither from an ADC at 0x48', async () => {
    const clock = new VirtualClock();
    expect((await create(new FakeI2CHardware(1).attach(0x4a, new FakeTmp117(clock)))).name).toBe('tmp117@0x4a');
    expect((await create(new FakeI2CHardware(1).attach(0x4b, new FakeTmp102()))).name).toBe('tmp102@0x4b');
    await expect(create(new FakeI2CHardware(1).attach(0x48, new FakeAds1115()))).rejects.toThrow(SensorNotFoundError);
  });

  it('names a BMP280 after its chip id', async () => {
    const hardware = new FakeI2CHardware(1).attach(0x77, new FakeBme280(new VirtualClock(), 'bmp280'));
    expect((await create(hardware)).name).toBe('bmp280@0x77');
  });

  it('with an address, probes that address only', async () => {
    const clock = new VirtualClock();
    const hardware = new FakeI2CHardware(1).attach(0x48, new FakeTmp117(clock)).attach(0x77, new FakeBme280(clock));
    expect((await create(hardware, { address: 0x77 })).name).toBe('bme280@0x77');
    expect(new Set(hardware.messages.map((m) => m.address))).toEqual(new Set([0x77]));
  });

  it('falls back to the first DS18B20 when no I2C chip answers', async () => {
    const tree = await emptyW1();
    await tree.setTemperature('28-0000000000b2', 20);
    await tree.setTemperature('28-0000000000a1', 20);
    const sensor = await create(new FakeI2CHardware(1), {}, tree.root);
    expect(sensor.name).toBe('ds18b20:28-0000000000a1');
    expect(await sensor.read()).toMatchObject({ valid: true, celsius: 20 });
  });

  it('names everything it tried when it finds nothing', async () => {
    const tree = await emptyW1();
    const attempt = create(new FakeI2CHardware(1), {}, tree.root);
    await expect(attempt).rejects.toThrow(SensorNotFoundError);
    await expect(attempt).rejects.toThrow(
      `no temperature sensor found: no known chip answered on /dev/i2c-1 at 0x18-0x1f, 0x38, 0x44-0x46, 0x48-0x4b, 0x76-0x77; no DS18B20 (28-*) under ${tree.root}. Set sensor.driver to cpu, sim or replay to run without one`,
    );
  });

  it('says why the bus could not be used', async () => {
    await expect(create(new FakeI2CHardware(1), { bus: 3 })).rejects.toThrow(/no temperature sensor found: ENOENT, No such file or directory \(open '\/dev\/i2c-3'\)/);
  });

  it('closes the bus it probed with', async () => {
    const hardware = new FakeI2CHardware(1).attach(0x18, new FakeMcp9808());
    await create(hardware);
    expect([hardware.opened, hardware.closed]).toEqual([1, 1]);
  });
});

describe('createTemperatureSensor', () => {
  it('uses the configured address for a named chip, touching no hardware until the first read', async () => {
    const hardware = new FakeI2CHardware(1).attach(0x1a, new FakeMcp9808());
    const sensor = await create(hardware, { driver: 'mcp9808', address: 0x1a });
    expect(sensor.name).toBe('mcp9808@0x1a');
    expect(hardware.opened).toBe(0);
    expect((await sensor.read()).valid).toBe(true);
  });

  it.each<[string, Partial<SensorConfig>, RegExp]>([
    ['none', { driver: 'none' }, /sensor.driver is 'none'/],
    ['an address beyond 7 bits', { driver: 'bme280', address: 0x80 }, /sensor.address 128 is not a 7-bit I2C address/],
    ['a reserved address', { driver: 'bme280', address: 0x01 }, /not a 7-bit I2C address/],
    ['a negative bus', { driver: 'bme280', bus: -1 }, /sensor.bus must be an I2C bus number/],
    ['a DS18B20 id that is not one', { driver: 'ds18b20', device: '../../etc' }, /sensor.device "..\/..\/etc" is not a DS18B20 id/],
    ['replay without a file', { driver: 'replay' }, /sensor.driver replay needs sensor.file/],
    ['replay at speed 0', { driver: 'replay', file: '/dev/null', speed: 0 }, /sensor.speed must be a positive number, not 0/],
  ])('rejects %s with a SensorConfigError', async (_what, overrides, message) => {
    const attempt = create(new FakeI2CHardware(1), overrides);
    await expect(attempt).rejects.toThrow(SensorConfigError);
    await expect(attempt).rejects.toThrow(message);
  });

  it('reports a missing replay file with its path and ENOENT', async () => {
    const error = await create(new FakeI2CHardware(1), { driver: 'replay', file: '/nonexistent/readings.csv' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SensorConfigError);
    expect(error).toMatchObject({ code: 'ENOENT', message: 'replay file /nonexistent/readings.csv: no such file' });
  });
});
