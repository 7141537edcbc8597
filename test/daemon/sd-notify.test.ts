import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../agent/lib/log.js';
import { SdNotify } from '../../agent/daemon/sd-notify.js';

let dir: string;
let recorder: string;
let record: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sd-notify-'));
  record = join(dir, 'calls.txt');
  recorder = join(dir, 'systemd-notify');
  // Stands in for systemd-notify: appends its arguments and the socket it would write to.
  writeFileSync(recorder, `#!/bin/sh\necho "$NOTIFY_SOCKET $*" >> "${record}"\n`);
  chmodSync(recorder, 0o755);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const calls = () => (existsSync(record) ? readFileSync(record, 'utf8').trim().split('\n') : []);

describe('SdNotify', () => {
  it('sends READY with our pid and STOPPING through systemd-notify', async () => {
    const notify = new SdNotify({ env: { NOTIFY_SOCKET: '/run/systemd/notify' }, command: recorder, pid: 4242, logger: silentLogger() });
    await notify.ready('running');
    await notify.stopping();
    expect(calls()).toEqual(['/run/systemd/notify --pid=4242 --ready --status=running', '/run/systemd/notify --pid=4242 STOPPING=1 --status=stopping']);
  });

  it('does nothing without NOTIFY_SOCKET', async () => {
    const notify = new SdNotify({ env: {}, command: recorder, logger: silentLogger() });
    await notify.ready('running');
    await notify.stopping();
    expect(notify.enabled).toBe(false);
    expect(calls()).toEqual([]);
  });

  it('the watchdog period is half of WATCHDOG_USEC, only for its own pid; WATCHDOG=1 and STATUS= go through systemd-notify', async () => {
    const env = { NOTIFY_SOCKET: '/run/n', WATCHDOG_USEC: '200000' };
    expect(new SdNotify({ env, command: recorder, pid: 7, logger: silentLogger() }).watchdogIntervalMs()).toBe(100);
    expect(new SdNotify({ env: { ...env, WATCHDOG_PID: '8' }, command: recorder, pid: 7, logger: silentLogger() }).watchdogIntervalMs()).toBeNull();
    expect(new SdNotify({ env: { NOTIFY_SOCKET: '/run/n' }, command: recorder, logger: silentLogger() }).watchdogIntervalMs()).toBeNull();
    const notify = new SdNotify({ env, command: recorder, pid: 7, logger: silentLogger() });
    await notify.watchdog();
    await notify.status('wedged: vision has not advanced for 61 s');
    expect(calls()).toEqual(['/run/n --pid=7 WATCHDOG=1', '/run/n --pid=7 --status=wedged: vision has not advanced for 61 s']);
  });

  it('survives a missing systemd-notify', async () => {
    const notify = new SdNotify({ env: { NOTIFY_SOCKET: '/run/n' }, command: join(dir, 'missing'), logger: silentLogger() });
    await expect(notify.ready('running')).resolves.toBeUndefined();
  });
});
