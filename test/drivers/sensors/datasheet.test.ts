import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aht20Celsius } from '../../../drivers/sensors/chips/aht20.js';
import { compensateTemperature } from '../../../drivers/sensors/chips/bmx280.js';
import { mcp9808Celsius } from '../../../drivers/sensors/chips/mcp9808.js';
import { sensirionCelsius } from '../../../drivers/sensors/chips/sensirion.js';
import { tmp102Celsius, tmp117Celsius } from '../../../drivers/sensors/chips/ti-tmp.js';
import { crc8 } from '../../../drivers/sensors/crc8.js';
import { parseW1Slave } from '../../../drivers/sensors/ds18b20.js';
import { aht20RawFor } from '../../fakes/i2c/aht20.js';
import { bme280AdcFor, DATASHEET_TRIMMING } from '../../fakes/i2c/bme280.js';
import { twosComplement } from '../../fakes/i2c/encode.js';
import { sensirionRawFor } from '../../fakes/i2c/sensirion.js';
import { dallasCrc8, ds18b20Scratchpad, w1SlaveText } from '../../fakes/sysfs-sensors.js';

/** Vectors from the datasheets (and one real device's answer), then the fakes' encoders against the drivers' decoders. */

describe('CRC-8 0x31 / 0xFF (Sensirion, Aosong)', () => {
  it('gives 0x92 for 0xBEEF, the example of the Sensirion datasheets', () => {
    expect(crc8(Uint8Array.from([0xbe, 0xef]))).toBe(0x92);
  });

  it('accepts a real AHT20 answer (status 1C, data 3B 5E 86 88 B2, CRC D2), which reads 31.67 °C', () => {
    const answer = [0x1c, 0x3b, 0x5e, 0x86, 0x88, 0xb2];
    expect(crc8(Uint8Array.from(answer))).toBe(0xd2);
    expect(aht20Celsius(((0x86 & 0x0f) << 16) | (0x88 << 8) | 0xb2)).toBeCloseTo(31.674576, 5);
  });
});

describe('Sensirion SHT3x/SHT4x: T = -45 + 175 * S / 65535', () => {
  it.each([
    ['0x0000', -45],
    ['0x6666', 25],
    ['0xffff', 130],
  ])('raw %s reads %d °C', (raw, celsius) => {
    expect(sensirionCelsius(Number(raw))).toBeCloseTo(celsius, 10);
  });
});

describe('MCP9808 T_A: 13-bit two\'s complement in 1/16 °C, alert flags in bits 15..13', () => {
  it.each([
    ['0x0190', 25],
    ['0x0001', 0.0625],
    ['0x1fff', -0.0625],
    ['0x1ff0', -1],
    ['0x1e70', -25],
    ['0x1d80', -40],
    ['0xfe70', -25], // all three alert flags set
    ['0xc190', 25],
  ])('%s reads %d °C', (raw, celsius) => {
    expect(mcp9808Celsius(Number(raw))).toBe(celsius);
  });
});

describe('TMP117 result register: 7.8125 m°C two\'s complement (datasheet table 7-1)', () => {
  it.each([
    ['0x8000', -256],
    ['0xf380', -25],
    ['0xfff0', -0.125],
    ['0xffff', -0.0078125],
    ['0x0000', 0],
    ['0x0001', 0.0078125],
    ['0x0c80', 25],
    ['0x3200', 100],
    ['0x7fff', 255.9921875],
  ])('%s reads %d °C', (raw, celsius) => {
    expect(tmp117Celsius(Number(raw))).toBe(celsius);
  });
});

describe('TMP102 temperature register: 12-bit (13-bit in extended mode) 0.0625 °C', () => {
  it.each([
    ['0x7ff0', 127.9375],
    ['0x6400', 100],
    ['0x1900', 25],
    ['0x0040', 0.25],
    ['0xfff0', -0.0625],
    ['0xe700', -25],
    ['0xc900', -55],
    ['0x4b01', 150], // extended mode: 0x960 << 3, bit 0 set
    ['0xe481', -55], // extended mode: 0x1C90 << 3
  ])('%s reads %d °C', (raw, celsius) => {
    expect(tmp102Celsius(Number(raw))).toBe(celsius);
  });
});

describe('BME280/BMP280 compensation (Bosch 32-bit integer formula)', () => {
  it('reads the datasheet example adc_T 519888 with dig_T1..3 = 27504, 26435, -1000 as 25.08 °C', () => {
    expect(compensateTemperature(519888, DATASHEET_TRIMMING)).toBe(25.08);
  });

  it("the fake's inverse lands on the datasheet's adc_T", () => {
    expect(Math.abs(bme280AdcFor(25.08, DATASHEET_TRIMMING) - 519888)).toBeLessThan(16);
  });

  it('round-trips every temperature of the operating range within 0.01 °C', () => {
    fc.assert(
      fc.property(fc.double({ min: -40, max: 85, noNaN: true }), (celsius) => {
        expect(Math.abs(compensateTemperature(bme280AdcFor(celsius, DATASHEET_TRIMMING), DATASHEET_TRIMMING) - celsius)).toBeLessThanOrEqual(0.0101);
      }),
    );
  });
});

describe('DS18B20 scratchpad and w1_slave', () => {
  it('checks the CRC of the w1_therm documentation example (72 01 4b 46 7f ff 0e 10 -> 57, 23.125 °C)', () => {
    expect(dallasCrc8([0x72, 0x01, 0x4b, 0x46, 0x7f, 0xff, 0x0e, 0x10])).toBe(0x57);
    expect(parseW1Slave('72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n')).toEqual({ celsius: 23.125 });
  });

  it.each([
    ['0x07d0', 125],
    ['0x0191', 25.0625],
    ['0x00a2', 10.125],
    ['0x0008', 0.5],
    ['0xfff8', -0.5],
    ['0xff5e', -10.125],
    ['0xfe6f', -25.0625],
    ['0xfc90', -55],
  ])('raw %s (datasheet table 1) reads %d °C', (raw, celsius) => {
    expect(parseW1Slave(w1SlaveText(ds18b20Scratchpad(Number(raw))))).toEqual({ celsius: Math.trunc(celsius * 1000) / 1000 });
  });
});

describe("the fakes' encoders invert the drivers' decoders", () => {
  const within = (resolution: number) => (decoded: number, celsius: number) => {
    expect(Math.abs(decoded - celsius)).toBeLessThanOrEqual(resolution / 2 + 1e-9);
  };

  it('SHT3x/SHT4x', () => {
    fc.assert(fc.property(fc.double({ min: -40, max: 125, noNaN: true }), (t) => within(175 / 65535)(sensirionCelsius(sensirionRawFor(t)), t)));
  });
  it('AHT20', () => {
    fc.assert(fc.property(fc.double({ min: -40, max: 85, noNaN: true }), (t) => within(200 / 2 ** 20)(aht20Celsius(aht20RawFor(t)), t)));
  });
  it('MCP9808', () => {
    fc.assert(fc.property(fc.double({ min: -40, max: 125, noNaN: true }), (t) => within(1 / 16)(mcp9808Celsius(twosComplement(t * 16, 13)), t)));
  });
  it('TMP117', () => {
    fc.assert(fc.property(fc.double({ min: -55, max: 150, noNaN: true }), (t) => within(1 / 128)(tmp117Celsius(twosComplement(t * 128, 16)), t)));
  });
});
