/**
 * The data folder, checked before anything uses it: a folder, or creatable as one, on a real filesystem.
 * A data folder under /proc or /sys is not merely useless: Node's recursive mkdir spins for ever on procfs
 * (the agent then ignored SIGTERM), so it is refused here, from a `stat` and a `statfs` of the nearest
 * folder that exists. (Files the configuration names are checked when read: agent/lib/input-file.ts.)
 */
import { statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { virtualFilesystemOf } from '../lib/input-file.js';

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
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
