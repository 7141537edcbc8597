/** Checks of the machine itself: Node.js, CPU architecture, the data folder, the clock. */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fail, pass, warn, type Check } from './types.js';

const MIN_NODE_MAJOR = 20;
const MIB = 1024 * 1024;
/** Below this the store's writes start failing soon (SQLite WAL, snapshots, model downloads). */
const MIN_FREE_BYTES = 200 * MIB;
const LOW_FREE_BYTES = 1024 * MIB;
/** A clock before this has certainly not been set (a Pi without RTC starts at its last shutdown or 1970). */
const EARLIEST_PLAUSIBLE = Date.UTC(2025, 0, 1);

export const nodeCheck: Check = {
  id: 'node',
  title: 'Node.js',
  required: true,
  async run({ node }) {
    const major = Number(/^v?(\d+)/.exec(node.version)?.[1]);
    if (major >= MIN_NODE_MAJOR) return pass(`${node.version}`);
    return fail(`${node.version} is too old (${MIN_NODE_MAJOR} or later needed)`, 'install Node.js 20 or 22 (NodeSource packages or the Raspberry Pi OS nodejs package)');
  },
};

export const archCheck: Check = {
  id: 'arch',
  title: 'architecture',
  required: true,
  async run({ node }) {
    const where = `${node.platform}/${node.arch}`;
    if (node.arch === 'arm64' || node.arch === 'x64') return pass(`${where} (64-bit)`);
    if (node.arch === 'arm' || node.arch === 'ia32') {
      return fail(`${where} is 32-bit: onnxruntime-node ships only 64-bit builds`, 'install the 64-bit Raspberry Pi OS (Bookworm, arm64) on a Pi 3, 4 or 5');
    }
    return warn(`${where}: not a platform onnxruntime-node is known to ship for`, 'use linux/arm64 or linux/x64');
  },
};

export const dataDirCheck: Check = {
  id: 'data_dir',
  title: 'data folder',
  required: true,
  async run({ config }) {
    const dir = config.data_dir;
    const probe = join(dir, `.doctor-${randomUUID()}`);
    try {
      await mkdir(dir, { recursive: true });
      await writeFile(probe, 'edge-agent doctor\n');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      return fail(`${dir} is not writable (${code})`, `create it and give the agent's user write access: sudo install -d -o $USER ${dir}`);
    } finally {
      await rm(probe, { force: true }).catch(() => undefined);
    }
    const fs = await statfs(dir);
    const free = fs.bavail * fs.bsize;
    const freeText = `${(free / MIB).toFixed(0)} MiB free`;
    if (free < MIN_FREE_BYTES) return fail(`${dir} is writable but has only ${freeText}`, 'free space on the card (old logs: journalctl --vacuum-size=100M) or move data_dir');
    if (free < LOW_FREE_BYTES) return warn(`${dir} is writable, ${freeText}`, 'less than 1 GiB free: snapshots and model updates need room');
    return pass(`${dir} is writable, ${freeText}`);
  },
};

export const clockCheck: Check = {
  id: 'clock',
  title: 'clock',
  required: false,
  async run({ now, timesyncFile, run }) {
    const time = new Date(now()).toISOString();
    if (now() < EARLIEST_PLAUSIBLE) {
      return fail(`the clock says ${time}: it has not been set`, 'give the Pi network access to NTP (sudo timedatectl set-ntp true): timestamps and TLS certificates depend on it');
    }
    if (existsSync(timesyncFile)) return pass(`synchronised (systemd-timesyncd), ${time}`);
    const answer = await run('timedatectl', ['show', '--property=NTPSynchronized', '--value'], 5_000);
    if (answer.code === 0 && answer.stdout.trim() === 'yes') return pass(`synchronised (timedatectl), ${time}`);
    if (answer.code === 0) return warn(`not synchronised with NTP, ${time}`, 'sudo timedatectl set-ntp true, and check that the Pi reaches an NTP server');
    return warn(`cannot tell whether the clock is synchronised (no timedatectl), ${time}`, 'run an NTP client (systemd-timesyncd or chrony)');
  },
};
