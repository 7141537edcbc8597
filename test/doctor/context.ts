/**
 * A DoctorContext for the checks' tests: the given configuration and none of this machine (an empty
 * PATH, sysfs folders and a timesync file that do not exist, an I2C bus that cannot be opened, no commands).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentConfig } from '../../agent/config/types.js';
import type { DoctorContext } from '../../agent/doctor/types.js';
import { silentLogger } from '../../agent/lib/log.js';

/** `dir`: a temporary folder the test owns; the empty PATH folder is made in it. */
export function doctorContext(dir: string, config: AgentConfig, extra: Partial<DoctorContext> = {}): DoctorContext {
  const emptyBin = join(dir, 'empty-bin');
  mkdirSync(emptyBin, { recursive: true });
  return {
    config,
    logger: silentLogger(),
    node: { version: 'v20.20.2', arch: 'arm64', platform: 'linux' },
    env: { PATH: emptyBin },
    openBus: () => Promise.reject(Object.assign(new Error('cannot open /dev/i2c-1: ENOENT'), { code: 'ENOENT' })),
    sysfs: { gpio: join(dir, 'no-gpio'), w1: join(dir, 'no-w1'), thermal: join(dir, 'no-thermal') },
    timesyncFile: join(dir, 'no-timesync'),
    run: async () => ({ code: null, stdout: '' }),
    now: Date.now,
    timeoutMs: 3_000,
    ...extra,
  };
}
