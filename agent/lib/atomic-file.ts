/**
 * Files that a power cut leaves whole: the old content or the new, never a mix or an empty file.
 *
 * The new content goes to a temporary file in the same folder, is fsynced, renamed over the target
 * (rename is atomic within a file system), and then the folder is fsynced, because the rename itself is
 * a change to the folder that is only durable once the folder is on the storage. Without the fsyncs, ext4
 * and f2fs may put the rename on the card before the data, and a power cut then leaves a zero-length file.
 */
import { randomUUID } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** fsync(2) of a file or a folder (a folder's fsync makes the renames and deletions inside it durable). */
export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `data` to a new file (it must not exist, created with `mode`) and fsyncs it before resolving. */
export async function writeFileDurably(path: string, data: string | Uint8Array, mode = 0o666): Promise<void> {
  const handle = await open(path, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `path` with `data` atomically and durably. The temporary file is `temp`, which must be in the
 * same folder and not exist; by default `.<name>.<random>.tmp` (hidden, and never matching the target's
 * extension). It is removed when the write fails.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  temp = join(dirname(path), `.${basename(path)}.${randomUUID()}.tmp`),
  mode = 0o666,
): Promise<void> {
  try {
    await writeFileDurably(temp, data, mode);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await fsyncPath(dirname(path));
}

/**
 * writeFileAtomic() for secrets (private keys, tokens): the file is created 0600 (umask can only take
 * more away), so there is never a moment when another user can read it.
 */
export function writePrivateFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  return writeFileAtomic(path, data, undefined, 0o600);
}
