import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../agent/lib/log.js';
import type { I2CBus } from '../../../drivers/i2c/types.js';
import { createTemperatureSensor } from '../../../drivers/sensors/index.js';
import { FakeI2CHardware, VirtualClock } from '../../fakes/i2c/fake-bus.js';
import { FakeMcp9808 } from '../../fakes/i2c/mcp9808.js';
import { FakeSht3x } from '../../fakes/i2c/sensirion.js';
import { sensorConfig } from './contract.js';
import { errorOf, rig } from './rig.js';

/** Failure handling shared by every I2C chip, shown on an MCP9808 (its reads involve no waits of their own). */

const MCP9808_ID_READS = (hardware: FakeI2CHardware) => hardware.writesTo(0x18).filter((w) => w[0] === 0x06).length;

describe('I2C sensor failure handling', () => {
  it('retries transient errors with the backoff of the retry policy', async () => {
    const { sensor, hardware, chip, sleeps } = await rig('mcp9808', 0x18, () => new FakeMcp9808());
    chip.celsius = 22.5;
    hardware.failNext(2, 'EIO');
    expect(await sensor.read()).toMatchObject({ valid: true, celsius: 22.5 });
    expect(sleeps).toEqual([20, 100]);
  });

  it.each(['EIO', 'ENXIO', 'EREMOTEIO', 'ETIMEDOUT'])('treats %s as transient', async (code) => {
    const { sensor, hardware } = await rig('mcp9808', 0x18, () => new FakeMcp9808());
    hardware.failNext(1, code);
    expect((await sensor.read()).valid).toBe(true);
  });

  it('gives up after the last attempt with the error and the number of attempts', async () => {
    const { sensor, hardware } = await rig('mcp9808', 0x18, () => new FakeMcp9808());
    hardware.failNext(3, 'ETIMEDOUT');
    expect(errorOf(await sensor.read())).toMatch(/^ETIMEDOUT, Connection timed out .* \(after 3 attempts\)$/);
    expect((await sensor.read()).valid).toBe(true);
  });

  it('does not retry an error that is not a bus glitch', async () => {
    const { sensor, hardware, sleeps } = await rig('mcp9808', 0x18, () => new FakeMcp9808());
    hardware.failNext(1, 'EINVAL');
    expect(errorOf(await sensor.read())).toMatch(/^EINVAL/);
    expect(sleeps).toEqual([]);
  });

  it('reopens the bus and sets the chip up again after failures in a row', async () => {
    const retry = { attempts: 3, backoffMs: [1], reopenAfter: 4 };
    const { sensor, hardware } = await rig('mcp9808', 0x18, () => new FakeMcp9808(), { retry });
    expect((await sensor.read()).valid).toBe(true);
    expect([hardware.opened, MCP9808_ID_READS(hardware)]).toEqual([1, 1]);
    hardware.failNext(4, 'EREMOTEIO');
    expect((await sensor.read()).valid).toBe(false); // three failures
    expect(hardware.closed).toBe(0);
    expect((await sensor.read()).valid).toBe(true); // the fourth reopens, the retry succeeds
    expect({ opened: hardware.opened, closed: hardware.closed, idReads: MCP9808_ID_READS(hardware) }).toEqual({ opened: 2, closed: 1, idReads: 2 });
  });

  it('counts failures in a row only: a success in between resets the count', async () => {
    const retry = { attempts: 3, backoffMs: [1], reopenAfter: 4 };
    const { sensor, hardware } = await rig('mcp9808', 0x18, () => new FakeMcp9808(), { retry });
    for (let i = 0; i < 3; i++) {
      hardware.failNext(2, 'EIO');
      expect((await sensor.read()).valid).toBe(true);
    }
    expect(hardware.opened).toBe(1);
  });

  it('logs a warning naming the bus when it reopens it', async () => {
    const lines: string[] = [];
    const logger = createLogger('warn', { write: (line: string) => lines.push(line) });
    const clock = new VirtualClock();
    const hardware = new FakeI2CHardware(1).attach(0x18, new FakeMcp9808());
    const sensor = await createTemperatureSensor(sensorConfig({ driver: 'mcp9808' }), {
      logger,
      openBus: hardware.open,
      clock: clock.clock,
      sleep: clock.sleep,
      retry: { attempts: 2, backoffMs: [1], reopenAfter: 2 },
    });
    hardware.failNext(2, 'EIO');
    await sensor.read();
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['reopening /dev/i2c-1 after 2 failed transfers in a row']);
  });

  it('recovers when a chip that was unplugged comes back', async () => {
    const { sensor, hardware, chip } = await rig('mcp9808', 0x18, () => new FakeMcp9808());
    hardware.detach(0x18);
    expect(errorOf(await sensor.read())).toMatch(/EREMOTEIO/);
    hardware.attach(0x18, chip);
    expect((await sensor.read()).valid).toBe(true);
  });

  it('reports a bus that cannot be opened, without talk of reopening it, and opens it once it exists', async () => {
    const clock = new VirtualClock();
    const hardware = new FakeI2CHardware(1).attach(0x18, new FakeMcp9808());
    let present = false;
    const openBus = (n: number): Promise<I2CBus> =>
      present ? hardware.open(n) : Promise.reject(Object.assign(new Error('cannot open /dev/i2c-1: ENOENT (no such device)'), { code: 'ENOENT' }));
    const warnings: string[] = [];
    const logger = createLogger('warn', { write: (line: string) => warnings.push(line) });
    const retry = { attempts: 3, backoffMs: [1], reopenAfter: 2 };
    const sensor = await createTemperatureSensor(sensorConfig({ driver: 'mcp9808' }), { logger, openBus, clock: clock.clock, sleep: clock.sleep, retry });
    for (let i = 0; i < 3; i++) expect(errorOf(await sensor.read())).toBe('cannot open /dev/i2c-1: ENOENT (no such device)');
    expect(warnings).toEqual([]);
    present = true;
    expect((await sensor.read()).valid).toBe(true);
  });

  it('runs overlapping reads one after the other, so their transfers do not interleave', async () => {
    const { sensor, hardware } = await rig('sht3x', 0x44, (c) => new FakeSht3x(c));
    await Promise.all([sensor.read(), sensor.read(), sensor.read()]);
    const kinds = hardware.messages.map((m) => m.kind).join(' ');
    expect(kinds).toBe('write read write read write read');
  });

  it('closes the bus on close()', async () => {
    const { sensor, hardware } = await rig('mcp9808', 0x18, () => new FakeMcp9808());
    await sensor.read();
    await sensor.close();
    expect(hardware.closed).toBe(1);
  });

  it('treats an implausible value as invalid, never as a temperature', async () => {
    const { sensor, chip } = await rig('mcp9808', 0x18, () => new FakeMcp9808());
    chip.celsius = 140;
    expect(errorOf(await sensor.read())).toBe('implausible value 140 °C (outside -40..125 °C)');
  });

  it('counts a short transfer as an I/O error', async () => {
    const { sensor, hardware } = await rig('mcp9808', 0x18, () => new FakeMcp9808());
    expect((await sensor.read()).valid).toBe(true);
    hardware.shortReads = 3;
    expect(errorOf(await sensor.read())).toBe('EIO: short I2C read, 1 of 2 bytes (after 3 attempts)');
  });
});
