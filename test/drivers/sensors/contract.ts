import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SensorConfig } from '../../../agent/config/types.js';
import type { TemperatureSensor } from '../../../drivers/sensors/types.js';

/** A complete sensor config: the defaults the daemon's schema has, with `overrides`. */
export function sensorConfig(overrides: Partial<SensorConfig> = {}): SensorConfig {
  return { driver: 'auto', bus: 1, address: null, device: null, file: null, column: 'Temperature', speed: 600, loop: false, interval_s: 60, ...overrides };
}

/** A sensor to put through the contract, with what the test knows about the device behind it. */
export interface SensorUnderTest {
  sensor: TemperatureSensor;
  /** The temperature the fake device is set to (unknown on real hardware). */
  expectedCelsius?: number;
  /** How far the reading may be from `expectedCelsius` (the chip's resolution), default 0.01. */
  tolerance?: number;
  /** Makes the device fail as an unplugged one does (fakes only; see ContractOptions.breakable). */
  breakDevice?: () => Promise<void> | void;
  dispose?: () => Promise<void>;
}

export interface ContractOptions {
  /** The setup provides breakDevice: check that a failing device gives invalid readings. */
  breakable?: boolean;
}

/**
 * What every TemperatureSensor promises (drivers/sensors/types.ts): readings carry the sensor's name and
 * a timestamp, valid ones a plausible temperature, and failures are readings with a reason, never a
 * thrown error, also after close().
 */
export function describeSensorContract(name: string, setup: () => Promise<SensorUnderTest>, options: ContractOptions = {}): void {
  describe(`TemperatureSensor contract: ${name}`, () => {
    let subject: SensorUnderTest;

    beforeEach(async () => {
      subject = await setup();
    });

    afterEach(async () => {
      await subject.sensor.close();
      await subject.dispose?.();
    });

    it('gives a valid reading stamped with its name and a timestamp', async () => {
      const reading = await subject.sensor.read();
      expect(reading.valid, reading.valid ? '' : reading.error).toBe(true);
      expect(reading.sensor).toBe(subject.sensor.name);
      expect(subject.sensor.name).toMatch(/\S/);
      expect(Number.isFinite(reading.ts)).toBe(true);
      expect(reading.ts).toBeGreaterThan(Date.UTC(2000, 0, 1));
      if (!reading.valid) return;
      expect(reading.celsius).toBeGreaterThan(-60);
      expect(reading.celsius).toBeLessThan(150);
      if (subject.expectedCelsius !== undefined) {
        expect(Math.abs(reading.celsius - subject.expectedCelsius)).toBeLessThanOrEqual(subject.tolerance ?? 0.01);
      }
    });

    it('keeps reading, with timestamps that never go backwards', async () => {
      const readings = [];
      for (let i = 0; i < 3; i++) readings.push(await subject.sensor.read());
      expect(readings.map((r) => r.valid)).toEqual([true, true, true]);
      for (let i = 1; i < readings.length; i++) expect(readings[i]!.ts).toBeGreaterThanOrEqual(readings[i - 1]!.ts);
    });

    it('answers overlapping reads, each with a reading', async () => {
      const readings = await Promise.all([subject.sensor.read(), subject.sensor.read(), subject.sensor.read()]);
      expect(readings.map((r) => r.valid)).toEqual([true, true, true]);
    });

    it('after close() gives invalid readings instead of throwing, and closes again quietly', async () => {
      await subject.sensor.close();
      await subject.sensor.close();
      const reading = await subject.sensor.read();
      expect(reading).toMatchObject({ valid: false, sensor: subject.sensor.name });
      expect(reading.valid ? '' : reading.error).toMatch(/closed/);
    });

    if (options.breakable) {
      it('reports a failed device as an invalid reading with a reason, and never throws', async () => {
        expect((await subject.sensor.read()).valid).toBe(true);
        expect(subject.breakDevice, 'setup must provide breakDevice').toBeTypeOf('function');
        await subject.breakDevice?.();
        const reading = await subject.sensor.read();
        expect(reading.valid).toBe(false);
        expect(reading.valid ? '' : reading.error).toMatch(/\w{3,}/);
        expect(reading.sensor).toBe(subject.sensor.name);
      });
    }
  });
}
