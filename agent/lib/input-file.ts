/**
 * Reading files someone else named (a configuration file, a secret, a key, an image on the command
 * line, a model URL) without trusting what they are: only regular files on a disk are read, and only up
 * to a size. A device (`/dev/zero` never ends), a FIFO (opening one without a writer blocks for ever), a
 * folder, or a file of the kernel's virtual filesystems (/proc's files say they are empty and are not) is
 * refused from its `stat` and `statfs`, before anything is opened; a file over the limit before it is read.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statfsSync, statSync, type Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';

/** statfs(2) `f_type` of the kernel's virtual filesystems (linux/magic.h): nothing the agent reads or stores belongs there. */
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

/** The name of the kernel's virtual filesystem `path` (which exists) is on, or null for a real one. */
export function virtualFilesystemOf(path: string): string | null {
  try {
    return VIRTUAL_FILESYSTEMS.get(statfsSync(path).type) ?? null;
  } catch {
    return null;
  }
}

/** A path that is not a regular file, or one larger than the reader takes; the message starts with the path. */
export class InputFileError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path} ${reason}`);
    this.name = 'InputFileError';
  }
}

/** Non-blocking, so that even a FIFO swapped in after the stat cannot hang the open. */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a FIFO';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Throws an InputFileError unless `info` is a regular file on a disk, of at most `maxBytes`. */
function check(path: string, info: Stats, maxBytes: number): void {
  if (!info.isFile()) throw new InputFileError(path, `is ${kindOf(info)}, not a regular file`);
  const virtual = virtualFilesystemOf(path);
  if (virtual) throw new InputFileError(path, `is on ${virtual}, a virtual filesystem of the kernel, not a file on a disk`);
  if (info.size > maxBytes) throw new InputFileError(path, `is ${info.size} bytes, over the limit of ${maxBytes}`);
}

/** Throws an InputFileError unless `path` is a regular file (of at most `maxBytes`); Node's error when it is missing. */
export async function checkRegularFile(path: string, maxBytes = Infinity): Promise<void> {
  check(path, await stat(path), maxBytes);
}

/** The bytes of a regular file of at most `maxBytes`. */
export async function readRegularFile(path: string, maxBytes: number): Promise<Buffer> {
  check(path, await stat(path), maxBytes);
  const handle = await open(path, OPEN_FLAGS);
  try {
    const info = await handle.stat();
    check(path, info, maxBytes);
    // Read one byte more than announced: a file that grew since is refused rather than read without end.
    const buffer = Buffer.alloc(info.size + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === buffer.length) throw new InputFileError(path, `grew while it was read (over ${info.size} bytes)`);
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

/** readRegularFile, synchronously (the configuration loader runs before the event loop matters). */
export function readRegularFileSync(path: string, maxBytes: number): Buffer {
  check(path, statSync(path), maxBytes);
  const fd = openSync(path, OPEN_FLAGS);
  try {
    const info = fstatSync(fd);
    check(path, info, maxBytes);
    const buffer = Buffer.alloc(info.size + 1);
    let length = 0;
    for (;;) {
      const bytesRead = readSync(fd, buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === buffer.length) throw new InputFileError(path, `grew while it was read (over ${info.size} bytes)`);
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}
