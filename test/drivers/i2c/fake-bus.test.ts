import { describe, expect, it } from 'vitest';
import { FakeBme280 } from '../../fakes/i2c/bme280.js';
import { FakeI2CHardware, VirtualClock } from '../../fakes/i2c/fake-bus.js';
import { FakeMcp9808 } from '../../fakes/i2c/mcp9808.js';
import { FakeSht3x } from '../../fakes/i2c/sensirion.js';
import { FakeTmp117 } from '../../fakes/i2c/ti-tmp.js';
import { FakeAht20 } from '../../fakes/i2c/aht20.js';

/** The fakes themselves must behave like the chips, or the driver tests prove nothing. */

describe('fake I2C bus', () => {
  it('decomposes SMBus calls into the I2C messages the kernel sends', async () => {
    const hardware = new FakeI2CHardware(1).attach(0x18, new FakeMcp9808());
    const bus = await hardware.open(1);
    const buffer = Buffer.alloc(2);
    expect(await bus.readI2cBlock(0x18, 0x06, 2, buffer)).toEqual({ bytesRead: 2, buffer: Buffer.from([0x00, 0x54]) });
    await bus.writeByte(0x18, 0x01, 0x00);
    expect(hardware.messages).toEqual([
      { address: 0x18, kind: 'write', data: [0x06] },
      { address: 0x18, kind: 'read', data: [0x00, 0x54] },
      { address: 0x18, kind: 'write', data: [0x01, 0x00] },
    ]);
  });

  it('NACKs (EREMOTEIO) at an address where nothing is attached', async () => {
    const bus = await new FakeI2CHardware(1).open(1);
    await expect(bus.i2cRead(0x40, 1, Buffer.alloc(1))).rejects.toMatchObject({ code: 'EREMOTEIO', errno: -121 });
  });

  it('has only its own bus number, and handles fail with EBADF after close', async () => {
    const hardware = new FakeI2CHardware(1);
    await expect(hardware.open(0)).rejects.toMatchObject({ code: 'ENOENT' });
    const bus = await hardware.open(1);
    await bus.close();
    await expect(bus.writeByte(0x18, 0, 0)).rejects.toMatchObject({ code: 'EBADF' });
  });

  it('injects faults into the next transfers, to one address or any', async () => {
    const hardware = new FakeI2CHardware(1).attach(0x18, new FakeMcp9808()).attach(0x19, new FakeMcp9808());
    const bus = await hardware.open(1);
    hardware.failNext(1, 'ETIMEDOUT', 0x19);
    await expect(bus.readI2cBlock(0x18, 0x06, 2, Buffer.alloc(2))).resolves.toMatchObject({ bytesRead: 2 });
    await expect(bus.readI2cBlock(0x19, 0x06, 2, Buffer.alloc(2))).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    await expect(bus.readI2cBlock(0x19, 0x06, 2, Buffer.alloc(2))).resolves.toMatchObject({ bytesRead: 2 });
  });

  it('scans with one-byte reads, so an idle SHT3x (which NACKs reads) does not show', async () => {
    const clock = new VirtualClock();
    const hardware = new FakeI2CHardware(1).attach(0x18, new FakeMcp9808()).attach(0x44, new FakeSht3x(clock)).attach(0x76, new FakeBme280(clock));
    expect(await (await hardware.open(1)).scan(0x03, 0x77)).toEqual([0x18, 0x76]);
  });
});

describe('chip emulations', () => {
  it('BME280: data registers hold 0x80000 until a forced measurement completes, and "measuring" is set meanwhile', async () => {
    const clock = new VirtualClock();
    const chip = new FakeBme280(clock);
    const bus = await new FakeI2CHardware(1).attach(0x76, chip).open(1);
    const temperature = async () => {
      const raw = (await bus.readI2cBlock(0x76, 0xfa, 3, Buffer.alloc(3))).buffer;
      return ((raw[0] ?? 0) << 12) | ((raw[1] ?? 0) << 4) | ((raw[2] ?? 0) >> 4);
    };
    const status = async () => (await bus.readI2cBlock(0x76, 0xf3, 1, Buffer.alloc(1))).buffer[0];
    expect(await temperature()).toBe(0x80000);
    await bus.writeByte(0x76, 0xf4, 0b001_000_01);
    expect(await status()).toBe(0x08);
    expect(await temperature()).toBe(0x80000); // shadowed while measuring
    clock.now += 4;
    expect(await status()).toBe(0x00);
    expect(await temperature()).not.toBe(0x80000);
    expect((await bus.readI2cBlock(0x76, 0xf4, 1, Buffer.alloc(1))).buffer[0]).toBe(0b001_000_00); // back to sleep
  });

  it('SHT3x: NACKs the read header until the conversion is done, then answers once', async () => {
    const clock = new VirtualClock();
    const bus = await new FakeI2CHardware(1).attach(0x44, new FakeSht3x(clock)).open(1);
    await bus.i2cWrite(0x44, 2, Buffer.from([0x24, 0x00]));
    await expect(bus.i2cRead(0x44, 6, Buffer.alloc(6))).rejects.toMatchObject({ code: 'EREMOTEIO' });
    clock.now += 15.5;
    await expect(bus.i2cRead(0x44, 6, Buffer.alloc(6))).resolves.toMatchObject({ bytesRead: 6 });
    await expect(bus.i2cRead(0x44, 6, Buffer.alloc(6))).rejects.toMatchObject({ code: 'EREMOTEIO' });
  });

  it('SHT3x: refuses commands it does not know', async () => {
    const bus = await new FakeI2CHardware(1).attach(0x44, new FakeSht3x(new VirtualClock())).open(1);
    await expect(bus.i2cWrite(0x44, 2, Buffer.from([0x12, 0x34]))).rejects.toMatchObject({ code: 'EREMOTEIO' });
  });

  it('TMP117: reads -256 °C (0x8000) until 125 ms after power-up', async () => {
    const clock = new VirtualClock();
    const bus = await new FakeI2CHardware(1).attach(0x48, new FakeTmp117(clock)).open(1);
    const word = async () => (await bus.readI2cBlock(0x48, 0x00, 2, Buffer.alloc(2))).buffer.readUInt16BE(0);
    expect(await word()).toBe(0x8000);
    clock.now += 125;
    expect(await word()).toBe(Math.round(21.5 * 128));
  });

  it('AHT20: busy for the conversion time, with the previous data until then', async () => {
    const clock = new VirtualClock();
    const chip = new FakeAht20(clock);
    const bus = await new FakeI2CHardware(1).attach(0x38, chip).open(1);
    await bus.i2cWrite(0x38, 3, Buffer.from([0xac, 0x33, 0x00]));
    const busy = (await bus.i2cRead(0x38, 7, Buffer.alloc(7))).buffer;
    expect([busy[0], busy.subarray(1, 6).every((b) => b === 0)]).toEqual([0x98, true]);
    clock.now += 80;
    const done = (await bus.i2cRead(0x38, 7, Buffer.alloc(7))).buffer;
    expect(done[0]).toBe(0x18);
    expect(done.subarray(1, 6).some((b) => b !== 0)).toBe(true);
  });
});
