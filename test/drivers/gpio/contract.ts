import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlarmOutput } from '../../../drivers/gpio/types.js';

export interface AlarmUnderTest {
  output: AlarmOutput;
  /** Whether the load (buzzer, relay, light) is powered now; unknown on real hardware. */
  isOn?: () => boolean;
  dispose?: () => Promise<void>;
}

/** What every AlarmOutput promises (drivers/gpio/types.ts): set() switches, close() switches off, releases, and is idempotent. */
export function describeAlarmOutputContract(name: string, setup: () => Promise<AlarmUnderTest>): void {
  describe(`AlarmOutput contract: ${name}`, () => {
    let subject: AlarmUnderTest;

    beforeEach(async () => {
      subject = await setup();
    });

    afterEach(async () => {
      await subject.output.close();
      await subject.dispose?.();
    });

    const observe = () => subject.isOn?.();

    it('has a name and starts off', () => {
      expect(subject.output.name).toMatch(/\S/);
      if (subject.isOn) expect(observe()).toBe(false);
    });

    it('switches on and off, and repeating a state changes nothing', async () => {
      await subject.output.set(true);
      await subject.output.set(true);
      if (subject.isOn) expect(observe()).toBe(true);
      await subject.output.set(false);
      await subject.output.set(false);
      if (subject.isOn) expect(observe()).toBe(false);
    });

    it('switches off when closed, and closes again quietly', async () => {
      await subject.output.set(true);
      await subject.output.close();
      await subject.output.close();
      if (subject.isOn) expect(observe()).toBe(false);
    });

    it('refuses set() after close() with an error naming the output', async () => {
      await subject.output.close();
      await expect(subject.output.set(true)).rejects.toThrow(`alarm output ${subject.output.name} is closed`);
    });
  });
}
