/**
 * systemd's notify protocol (Type=notify): READY=1 once the agent runs, WATCHDOG=1 when the Watchdog
 * (agent/daemon/watchdog.ts) finds the agent advancing, STATUS= lines, STOPPING=1 at shutdown.
 * Everything is skipped when NOTIFY_SOCKET is unset (not run by systemd, or by a unit that is not
 * Type=notify).
 *
 * The protocol is a datagram on a unix socket, which Node cannot send (node:dgram is UDP only, and a
 * native addon for it would need a compiler on the Pi). So the agent runs the `systemd-notify` tool that
 * ships with systemd, passing `--pid` with its own pid so systemd takes it as the main process. Because
 * the message comes from a child process, the unit needs `NotifyAccess=all`. systemd-notify (v246+)
 * waits until systemd has processed the message, so the short-lived sender does not race its own exit.
 */
import { spawn } from 'node:child_process';
import type { Logger } from '../lib/log.js';

export interface SdNotifyOptions {
  env?: NodeJS.ProcessEnv;
  /** The systemd-notify executable (tests point it at a recorder). */
  command?: string;
  pid?: number;
  logger: Logger;
}

export class SdNotify {
  private warned = false;
  private readonly env: NodeJS.ProcessEnv;
  private readonly pid: number;

  constructor(private readonly options: SdNotifyOptions) {
    this.env = options.env ?? process.env;
    this.pid = options.pid ?? process.pid;
  }

  get enabled(): boolean {
    return Boolean(this.env.NOTIFY_SOCKET);
  }

  /** Start-up finished. */
  ready(status: string): Promise<void> {
    return this.send(['--ready', `--status=${status}`]);
  }

  /** The keepalive: systemd kills and restarts the agent when none comes for WatchdogSec. */
  watchdog(): Promise<void> {
    return this.send(['WATCHDOG=1']);
  }

  /** The one-line status `systemctl status` shows. */
  status(text: string): Promise<void> {
    return this.send([`--status=${text}`]);
  }

  /** Asks systemd for `ms` more before it gives up on the start (or stop) in progress. */
  extendTimeout(ms: number, status: string): Promise<void> {
    return this.send([`EXTEND_TIMEOUT_USEC=${Math.round(ms * 1000)}`, `--status=${status}`]);
  }

  stopping(): Promise<void> {
    return this.send(['STOPPING=1', '--status=stopping']);
  }

  /** Half of WATCHDOG_USEC (systemd's advice), or null without a watchdog or when it watches another pid. */
  watchdogIntervalMs(): number | null {
    if (!this.enabled) return null;
    const usec = Number(this.env.WATCHDOG_USEC);
    if (!Number.isFinite(usec) || usec <= 0) return null;
    const watchedPid = this.env.WATCHDOG_PID;
    if (watchedPid && Number(watchedPid) !== this.pid) return null;
    return Math.max(1, Math.floor(usec / 2000));
  }

  /** Runs systemd-notify; failures are logged once, never thrown (the agent runs on without systemd). */
  private send(args: string[]): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    return new Promise((resolve) => {
      const child = spawn(this.options.command ?? 'systemd-notify', [`--pid=${this.pid}`, ...args], { stdio: 'ignore', env: this.env });
      child.once('error', (err) => {
        this.warnOnce(`cannot run systemd-notify: ${err.message}`);
        resolve();
      });
      child.once('exit', (code) => {
        if (code !== 0) this.warnOnce(`systemd-notify ${args[0]} exited with status ${code} (does the unit have NotifyAccess=all?)`);
        resolve();
      });
    });
  }

  private warnOnce(message: string): void {
    if (this.warned) return;
    this.warned = true;
    this.options.logger.warn(message);
  }
}
