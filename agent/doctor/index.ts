/** The checks `edge-agent doctor` runs, in the order it prints them, and the real machine's context. */
import { execFile } from 'node:child_process';
import { DEFAULT_SYSFS_GPIO } from '../../drivers/gpio/index.js';
import { openI2CBus } from '../../drivers/i2c/index.js';
import { DEFAULT_THERMAL_ROOT, DEFAULT_W1_ROOT } from '../../drivers/sensors/index.js';
import type { AgentConfig } from '../config/types.js';
import type { Logger } from '../lib/log.js';
import { brokerCheck } from './broker.js';
import { cameraCheck, gpioCheck, sensorCheck } from './hardware.js';
import { forecastModelCheck, intruderModelCheck } from './models.js';
import { provisioningCheck } from './provisioning.js';
import { archCheck, clockCheck, dataDirCheck, nodeCheck } from './system.js';
import { updatesCheck } from './updates.js';
import type { Check, CommandResult, DoctorContext } from './types.js';

export const CHECKS: readonly Check[] = [
  nodeCheck,
  archCheck,
  dataDirCheck,
  clockCheck,
  intruderModelCheck,
  forecastModelCheck,
  updatesCheck,
  cameraCheck,
  sensorCheck,
  gpioCheck,
  provisioningCheck,
  brokerCheck,
];

function runCommand(command: string, args: string[], timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout) => {
      if (err && typeof err.code !== 'number') resolve({ code: null, stdout: '' });
      else resolve({ code: err ? (err.code as number) : 0, stdout });
    });
  });
}

export function machineContext(config: AgentConfig, logger: Logger, timeoutMs: number): DoctorContext {
  return {
    config,
    logger,
    node: { version: process.version, arch: process.arch, platform: process.platform },
    env: process.env,
    openBus: openI2CBus,
    sysfs: { gpio: DEFAULT_SYSFS_GPIO, w1: DEFAULT_W1_ROOT, thermal: DEFAULT_THERMAL_ROOT },
    timesyncFile: '/run/systemd/timesync/synchronized',
    run: runCommand,
    now: Date.now,
    timeoutMs,
  };
}
