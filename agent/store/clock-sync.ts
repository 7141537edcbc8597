/**
 * Whether the system clock is synchronised (NTP), written with every record: a Pi without a real-time
 * clock makes records with a wrong time until NTP answers, and whoever reads them later must be able to
 * tell. The kernel knows (adjtimex's STA_UNSYNC), and `timedatectl` reports it for any NTP client
 * (systemd-timesyncd, chrony, ntpd); systemd-timesyncd also leaves /run/systemd/timesync/synchronized.
 * Node cannot call adjtimex, so the answer is cached and refreshed in the background at most once a
 * minute: a record is never kept waiting for a process.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

const TIMESYNC_FLAG = '/run/systemd/timesync/synchronized';
const REFRESH_MS = 60_000;

export interface ClockSyncOptions {
  flagFile?: string;
  /** Asks the system (default: `timedatectl show --property=NTPSynchronized --value`). */
  ask?: () => Promise<boolean>;
  /** Monotonic ms (default performance.now). */
  now?: () => number;
}

/** A cached "is the clock synchronised?" for the store; starts from timesyncd's flag file. */
export function systemClockSynced(options: ClockSyncOptions = {}): () => boolean {
  const flag = options.flagFile ?? TIMESYNC_FLAG;
  const ask = options.ask ?? (() => askTimedatectl(flag));
  const now = options.now ?? (() => performance.now());
  let synced = existsSync(flag);
  let checkedAt = now();
  let asking = false;
  return () => {
    if (!asking && now() - checkedAt >= REFRESH_MS) {
      asking = true;
      checkedAt = now();
      void ask()
        .then((answer) => (synced = answer))
        .finally(() => (asking = false));
    }
    return synced;
  };
}

function askTimedatectl(flag: string): Promise<boolean> {
  if (existsSync(flag)) return Promise.resolve(true);
  return new Promise((resolve) => {
    execFile('timedatectl', ['show', '--property=NTPSynchronized', '--value'], { timeout: 5_000 }, (err, stdout) => resolve(!err && stdout.trim() === 'yes'));
  });
}
