/**
 * `edge-agent doctor`: each check looks at one thing the agent needs and says pass, warn or fail, with a
 * hint that says what to do. Everything a check touches outside the process (sysfs, /dev, commands on
 * PATH, the clock) comes through the context, so tests run the checks against fake trees.
 */
import type { OpenI2CBus } from '../../drivers/i2c/index.js';
import type { AgentConfig } from '../config/types.js';
import type { Logger } from '../lib/log.js';

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface CheckResult {
  status: CheckStatus;
  /** What was found, one line. */
  message: string;
  /** What to do about it (for warn and fail). */
  hint?: string;
}

export interface CommandResult {
  /** null when the command could not run at all (not installed) or timed out. */
  code: number | null;
  stdout: string;
}

export interface DoctorContext {
  config: AgentConfig;
  logger: Logger;
  node: { version: string; arch: string; platform: string };
  /** Environment of the camera commands (PATH finds rpicam-vid, ffmpeg...). */
  env: NodeJS.ProcessEnv;
  openBus: OpenI2CBus;
  /** sysfs folders: GPIO (/sys/class/gpio), 1-Wire devices, thermal zones. */
  sysfs: { gpio: string; w1: string; thermal: string };
  /** Present once systemd-timesyncd has synchronised the clock (/run/systemd/timesync/synchronized). */
  timesyncFile: string;
  run(command: string, args: string[], timeoutMs: number): Promise<CommandResult>;
  now(): number;
  /** How long a capture, a reading or a broker connection may take. */
  timeoutMs: number;
}

export interface Check {
  id: string;
  title: string;
  /** A required check that fails makes doctor exit non-zero; others only inform. */
  required: boolean;
  run(context: DoctorContext): Promise<CheckResult>;
}

export const pass = (message: string): CheckResult => ({ status: 'pass', message });
export const warn = (message: string, hint: string): CheckResult => ({ status: 'warn', message, hint });
export const fail = (message: string, hint: string): CheckResult => ({ status: 'fail', message, hint });
