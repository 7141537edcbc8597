import { describe, expect, it } from 'vitest';
import { FakeAht20 } from '../../fakes/i2c/aht20.js';
import { FakeBme280 } from '../../fakes/i2c/bme280.js';
import { FakeMcp9808 } from '../../fakes/i2c/mcp9808.js';
import { FakeSht3x, FakeSht4x } from '../../fakes/i2c/sensirion.js';
import { FakeTmp102, FakeTmp117 } from '../../fakes/i2c/ti-tmp.js';
import { errorOf, rig } from './rig.js';

/** Each chip driver against its register-level emulation: command sequences, waits, and what goes wrong. */

describe('BME280 / BMP280', () => {
  it('sets the chip up (sleep mode, IIR filter off, humidity skipped) before the first forced measurement', async () => {
    const { sensor, hardware } = await rig('bme280', 0x76, (c) => new FakeBme280(c, 'bme280', undefined, 0x05));
    expect((await sensor.read()).valid).toBe(true);
    const writes = hardware.writesTo(0x76).filter((w) => w.length === 2);
    expect(writes).toEqual([
      [0xf4, 0x00],
      [0xf5, 0x00],
      [0xf2, 0x00],
      [0xf4, 0b001_000_01],
    ]);
  });

  it('triggers a new forced measurement for every read, so readings follow the temperature', async () => {
    const { sensor, chip } = await rig('bme280', 0x77, (c) => new FakeBme280(c), { address: 0x77 });
    chip.celsius = 18.25;
    const first = await sensor.read();
    chip.celsius = 29.5;
    const second = await sensor.read();
    expect(first.valid && first.celsius).toBeCloseTo(18.25, 1);
    expect(second.valid && second.celsius).toBeCloseTo(29.5, 1);
    expect(chip.measurements).toBe(2);
  });

  it('polls the measuring bit when the chip is slower than its datasheet maximum', async () => {
    const { sensor, chip, hardware } = await rig('bme280', 0x76, (c) => new FakeBme280(c));
    chip.slowdownMs = 5;
    chip.celsius = 24;
    const reading = await sensor.read();
    expect(reading.valid && reading.celsius).toBeCloseTo(24, 1);
    const statusReads = hardware.messages.filter((m) => m.kind === 'write' && m.data.length === 1 && m.data[0] === 0xf3);
    expect(statusReads.length).toBeGreaterThan(1);
  });

  it('gives up on a measurement that never ends', async () => {
    const { sensor, chip } = await rig('bme280', 0x76, (c) => new FakeBme280(c));
    chip.slowdownMs = 1000;
    expect(errorOf(await sensor.read())).toMatch(/measurement still running after 14 ms/);
  });

  it('takes a BMP280 for the bmp280 driver and names the sensor after the config', async () => {
    const { sensor, chip } = await rig('bmp280', 0x76, (c) => new FakeBme280(c, 'bmp280'));
    chip.celsius = -12.3;
    const reading = await sensor.read();
    expect(sensor.name).toBe('bmp280@0x76');
    expect(reading.valid && reading.celsius).toBeCloseTo(-12.3, 1);
  });

  it('says which chip id it found when another chip sits at the address', async () => {
    const { sensor } = await rig('bme280', 0x76, () => new FakeMcp9808());
    expect(errorOf(await sensor.read())).toBe('chip id 0x00 at 0x76 is not a BME280 (0x60) or BMP280 (0x58)');
  });
});

describe('SHT3x', () => {
  it('sends single shot high repeatability (0x2400) and reads after the conversion', async () => {
    const { sensor, hardware, chip } = await rig('sht3x', 0x45, (c) => new FakeSht3x(c), { address: 0x45 });
    chip.celsius = 21.7;
    const reading = await sensor.read();
    expect(reading.valid && reading.celsius).toBeCloseTo(21.7, 2);
    expect(hardware.writesTo(0x45)).toEqual([[0x24, 0x00]]);
  });

  it('waits out a chip slower than its spec: the NACKed read is repeated, the conversion is not restarted', async () => {
    const { sensor, chip } = await rig('sht3x', 0x44, (c) => new FakeSht3x(c, 30));
    chip.celsius = 15;
    const reading = await sensor.read();
    expect(reading.valid && reading.celsius).toBeCloseTo(15, 2);
    expect(chip.measurements).toBe(1);
  });

  it('turns a CRC mismatch into an invalid reading that says so', async () => {
    const { sensor, chip } = await rig('sht3x', 0x44, (c) => new FakeSht3x(c));
    chip.corruptCrc = true;
    expect(errorOf(await sensor.read())).toMatch(/^CRC mismatch on word 0: received 0x.., computed 0x.. over [0-9a-f]{4}$/);
  });
});

describe('SHT4x', () => {
  it('sends the high precision measurement (0xFD) and checks both words', async () => {
    const { sensor, hardware, chip } = await rig('sht4x', 0x44, (c) => new FakeSht4x(c));
    chip.celsius = -3.3;
    const reading = await sensor.read();
    expect(reading.valid && reading.celsius).toBeCloseTo(-3.3, 2);
    expect(hardware.writesTo(0x44)).toEqual([[0xfd]]);
  });

  it('is not mistaken for an SHT3x: the 16-bit command is refused and the reading is invalid', async () => {
    const { sensor } = await rig('sht3x', 0x44, (c) => new FakeSht4x(c));
    expect(errorOf(await sensor.read())).toMatch(/EREMOTEIO.*after 3 attempts/);
  });
});

describe('MCP9808', () => {
  it('masks the alert flags out of T_A', async () => {
    const { sensor, chip } = await rig('mcp9808', 0x18, () => new FakeMcp9808());
    chip.celsius = -0.0625;
    chip.alertFlags = 0b111;
    expect(await sensor.read()).toMatchObject({ valid: true, celsius: -0.0625 });
  });

  it('checks the manufacturer and device ids', async () => {
    const { sensor, chip } = await rig('mcp9808', 0x18, () => new FakeMcp9808());
    chip.manufacturerId = 0x1234;
    expect(errorOf(await sensor.read())).toBe('no MCP9808 at 0x18: manufacturer id 0x1234 (expected 0x0054), device id 0x04 (expected 0x04)');
  });
});

describe('TMP117', () => {
  it('waits for the first conversion after power-up instead of reporting the -256 °C reset value', async () => {
    const { sensor, chip, sleeps } = await rig('tmp117', 0x48, (c) => new FakeTmp117(c));
    chip.celsius = 36.6;
    const reading = await sensor.read();
    expect(reading.valid && reading.celsius).toBeCloseTo(36.6, 2);
    expect(sleeps).toEqual([125]);
  });

  it('reports a chip that never converts (shutdown mode) as invalid', async () => {
    const { sensor, chip } = await rig('tmp117', 0x48, (c) => new FakeTmp117(c));
    chip.shutdown = true;
    expect(errorOf(await sensor.read())).toMatch(/-256 °C reset value/);
  });

  it('checks the device id, so a TMP102 is not read as a TMP117', async () => {
    const { sensor } = await rig('tmp117', 0x48, () => new FakeTmp102());
    expect(errorOf(await sensor.read())).toBe('no TMP117 at 0x48: device id 0x5000 (expected 0x0117)');
  });
});

describe('TMP102', () => {
  it('reads 13-bit values in extended mode', async () => {
    const { sensor, chip } = await rig('tmp102', 0x49, () => new FakeTmp102(), { address: 0x49 });
    chip.extendedMode = true;
    chip.celsius = 140.125;
    expect(await sensor.read()).toMatchObject({ valid: true, celsius: 140.125, sensor: 'tmp102@0x49' });
  });

  it('clips at 127.9375 °C in normal mode, as the chip does', async () => {
    const { sensor, chip } = await rig('tmp102', 0x48, () => new FakeTmp102());
    chip.celsius = 140;
    expect(await sensor.read()).toMatchObject({ valid: true, celsius: 127.9375 });
  });
});

describe('AHT20', () => {
  it('initialises an uncalibrated chip (0xBE 0x08 0x00) before measuring', async () => {
    const { sensor, hardware, chip } = await rig('aht20', 0x38, (c) => new FakeAht20(c, false));
    chip.celsius = 25.5;
    const reading = await sensor.read();
    expect(reading.valid && reading.celsius).toBeCloseTo(25.5, 3);
    expect(hardware.writesTo(0x38)).toEqual([[0x71], [0xbe, 0x08, 0x00], [0x71], [0xac, 0x33, 0x00]]);
  });

  it('leaves a calibrated chip alone', async () => {
    const { sensor, hardware } = await rig('aht20', 0x38, (c) => new FakeAht20(c, true));
    await sensor.read();
    await sensor.read();
    expect(hardware.writesTo(0x38)).toEqual([[0x71], [0xac, 0x33, 0x00], [0xac, 0x33, 0x00]]);
  });

  it('waits while the busy bit is set, without triggering again', async () => {
    const { sensor, chip, sleeps } = await rig('aht20', 0x38, (c) => new FakeAht20(c, true, 115));
    chip.celsius = 8.75;
    const reading = await sensor.read();
    expect(reading.valid && reading.celsius).toBeCloseTo(8.75, 3);
    expect(chip.measurements).toBe(1);
    expect(sleeps).toEqual([40, 80, 10, 10, 10, 10]);
  });

  it('gives up on a chip that stays busy', async () => {
    const { sensor } = await rig('aht20', 0x38, (c) => new FakeAht20(c, true, 1000));
    expect(errorOf(await sensor.read())).toBe('still busy 130 ms after the trigger');
  });

  it('turns a CRC mismatch into an invalid reading', async () => {
    const { sensor, chip } = await rig('aht20', 0x38, (c) => new FakeAht20(c));
    chip.corruptCrc = true;
    expect(errorOf(await sensor.read())).toMatch(/^CRC mismatch: received 0x.., computed 0x..$/);
  });
});
