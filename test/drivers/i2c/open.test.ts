import { describe, expect, it } from 'vitest';
import { openI2CBus } from '../../../drivers/i2c/open.js';
import { isNack, isTransientI2CError } from '../../../drivers/i2c/types.js';

describe('openI2CBus', () => {
  it('names the missing device file and how to enable I2C', async () => {
    // No machine has 99 I2C buses: this is the error of a Pi with I2C off, or of a laptop.
    await expect(openI2CBus(99)).rejects.toThrow(/^cannot open \/dev\/i2c-99: ENOENT \(no such device: enable I2C with `sudo raspi-config nonint do_i2c 0`/);
    await expect(openI2CBus(99)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('I2C error classes', () => {
  it.each([
    ['EIO', true, false],
    ['ENXIO', true, true],
    ['EREMOTEIO', true, true],
    ['ETIMEDOUT', true, false],
    ['EAGAIN', true, false],
    ['ENOENT', false, false],
    ['EACCES', false, false],
    ['EBADF', false, false],
  ])('%s: transient %s, NACK %s', (code, transient, nack) => {
    const err = Object.assign(new Error(code), { code });
    expect([isTransientI2CError(err), isNack(err)]).toEqual([transient, nack]);
  });

  it('handles things that are not errors', () => {
    expect([isTransientI2CError(null), isTransientI2CError('EIO'), isNack(undefined)]).toEqual([false, false, false]);
  });
});
