import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CpuThermalSensor, findCpuThermalZone } from '../../../drivers/sensors/cpu-thermal.js';
import { Ds18b20Sensor, parseW1Slave } from '../../../drivers/sensors/ds18b20.js';
import { VirtualClock } from '../../fakes/i2c/fake-bus.js';
import { createThermalTree, ds18b20Scratchpad, FakeW1Tree, w1SlaveText } from '../../fakes/sysfs-sensors.js';
import { errorOf } from './rig.js';

/** A clock stopped at one instant: every reading's `ts`. */
const fixedClock = { now: () => 1e12, monotonic: () => 0 };

describe('DS18B20 w1_slave', () => {
  it('refuses a scratchpad the kernel found corrupt (crc NO)', () => {
    const pad = ds18b20Scratchpad(0x0191);
    expect(parseW1Slave(w1SlaveText([...pad.slice(0, 8), (pad[8] ?? 0) ^ 0x10]))).toEqual({
      error: `1-Wire CRC mismatch (crc=${((pad[8] ?? 0) ^ 0x10).toString(16).padStart(2, '0')} NO): check the wiring and the 4.7 kΩ pull-up`,
    });
  });

  it('refuses the 85 °C power-on value', () => {
    expect(parseW1Slave(w1SlaveText(ds18b20Scratchpad(0x0550)))).toEqual({
      error: '85.000 °C is the DS18B20 power-on value: no conversion ran (check the power wiring)',
    });
  });

  it('refuses an all-zero scratchpad, which passes the CRC', () => {
    expect(parseW1Slave('00 00 00 00 00 00 00 00 00 : crc=00 YES\n00 00 00 00 00 00 00 00 00 t=0\n')).toMatchObject({ error: expect.stringMatching(/all-zero scratchpad/) });
  });

  it('refuses text that is not w1_slave', () => {
    expect(parseW1Slave('')).toEqual({ error: 'unexpected w1_slave content ""' });
  });
});

describe('Ds18b20Sensor', () => {
  let tree: FakeW1Tree;
  const clock = new VirtualClock();
  beforeEach(async () => {
    tree = await FakeW1Tree.create();
    await tree.addBusMaster();
  });
  afterEach(() => tree.dispose());

  it('reads negative temperatures', async () => {
    await tree.setTemperature('28-0316a2795dff', -10.125);
    const sensor = new Ds18b20Sensor({ w1Root: tree.root, device: '28-0316a2795dff', clock: clock.clock });
    expect(await sensor.read()).toMatchObject({ valid: true, celsius: -10.125, sensor: 'ds18b20:28-0316a2795dff', ts: clock.now });
  });

  it('finds a sensor connected after start-up, and keeps to it', async () => {
    const sensor = new Ds18b20Sensor({ w1Root: tree.root, device: null, clock: clock.clock });
    expect(errorOf(await sensor.read())).toBe(`no DS18B20 (28-*) under ${tree.root}: is dtoverlay=w1-gpio on?`);
    await tree.setTemperature('28-0000000000bb', 19.5);
    expect(await sensor.read()).toMatchObject({ valid: true, celsius: 19.5 });
    await tree.setTemperature('28-0000000000aa', 30);
    expect(await sensor.read()).toMatchObject({ valid: true, celsius: 19.5 });
  });

  it('says when the configured sensor is gone from the bus', async () => {
    const sensor = new Ds18b20Sensor({ w1Root: tree.root, device: '28-0000000000cc', clock: clock.clock });
    expect(errorOf(await sensor.read())).toBe('DS18B20 28-0000000000cc is gone from the 1-Wire bus');
  });

  it('treats an out-of-range value as implausible', async () => {
    await tree.setText('28-0000000000dd', '50 05 4b 46 7f ff 0c 10 1c : crc=1c YES\n50 05 4b 46 7f ff 0c 10 1c t=127937\n');
    const sensor = new Ds18b20Sensor({ w1Root: tree.root, device: '28-0000000000dd', clock: clock.clock });
    expect(errorOf(await sensor.read())).toBe('implausible value 127.937 °C (outside -55..125 °C)');
  });
});

describe('CPU thermal zone', () => {
  const roots: string[] = [];
  afterEach(async () => {
    await Promise.all(roots.splice(0).map((r) => rm(r, { recursive: true, force: true })));
  });
  async function tree(zones: Array<{ type: string; temp: string }>): Promise<string> {
    const root = await createThermalTree(zones);
    roots.push(root);
    return root;
  }

  it('prefers the zone of type cpu-thermal', async () => {
    const root = await tree([
      { type: 'rp1_adc', temp: '39000' },
      { type: 'cpu-thermal', temp: '51234' },
    ]);
    expect(await findCpuThermalZone(root)).toEqual({ zone: 'thermal_zone1', type: 'cpu-thermal' });
    expect(await new CpuThermalSensor({ thermalRoot: root, clock: fixedClock }).read()).toEqual({ valid: true, celsius: 51.234, ts: 1e12, sensor: 'cpu' });
  });

  it('falls back to the first zone on other machines', async () => {
    const root = await tree([{ type: 'x86_pkg_temp', temp: '-1500' }]);
    expect(await new CpuThermalSensor({ thermalRoot: root, clock: fixedClock }).read()).toMatchObject({ valid: true, celsius: -1.5 });
  });

  it('reports a machine without thermal zones and unreadable values as invalid readings', async () => {
    const empty = await tree([]);
    expect(errorOf(await new CpuThermalSensor({ thermalRoot: empty, clock: fixedClock }).read())).toBe(`no thermal zone under ${empty}`);
    const root = await tree([{ type: 'cpu-thermal', temp: 'garbage' }]);
    const sensor = new CpuThermalSensor({ thermalRoot: root, clock: fixedClock });
    expect(errorOf(await sensor.read())).toBe(`${join(root, 'thermal_zone0', 'temp')} holds "garbage", not millidegrees`);
    await writeFile(join(root, 'thermal_zone0', 'temp'), '200000');
    expect(errorOf(await sensor.read())).toBe('implausible value 200 °C (outside -40..125 °C)');
    await rm(join(root, 'thermal_zone0', 'temp'));
    expect(errorOf(await sensor.read())).toBe(`cannot read ${join(root, 'thermal_zone0', 'temp')}: ENOENT`);
  });
});
