/**
 * Checks of the paths a configuration names, before anything uses them: the data folder must be a folder
 * (or creatable as one) on a real filesystem, and files must be regular files. A data folder under /proc
 * or /sys is not merely useless: Node's recursive mkdir spins for ever on procfs (the agent then ignored
 * SIGTERM), so it is refused here, from a `stat` and a `statfs` of the nearest folder that exists.
 */
import { statfsSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** statfs(2) `f_type` of the kernel's virtual filesystems (linux/magic.h): nothing the agent stores belongs there. */
const VIRTUAL_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x62656570, 'configfs'],
  [0xcafe4a11, 'bpf'],
  [0x6165676c, 'pstore'],
  [0xde5e81e4, 'efivarfs'],
  [0x42494e4d, 'binfmt_misc'],
]);

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/** The name of the virtual filesystem `path` (which exists) is on, or null for a real one. */
export function virtualFilesystemOf(path: string): string | null {
  try {
    return VIRTUAL_FILESYSTEMS.get(statfsSync(path).type) ?? null;
  } catch {
    return null;
  }
}

/**
 * Why `path` cannot be (or become) the agent's data folder, or null: it exists and is not a folder, a
 * parent is a file, or it is on one of the kernel's virtual filesystems.
 */
export function dataFolderProblem(path: string): string | null {
  let existing = resolve(path);
  let info = statOrNull(existing);
  while (info === null && dirname(existing) !== existing) {
    existing = dirname(existing);
    info = statOrNull(existing);
  }
  if (info === null) return null;
  if (!info.isDirectory()) return existing === resolve(path) ? `${path} exists and is not a folder` : `${existing} is a file, so ${path} cannot be created`;
  const virtual = virtualFilesystemOf(existing);
  if (virtual) return `${path} is on ${virtual}, a virtual filesystem of the kernel: the database, snapshots and models need a real disk`;
  return null;
}
