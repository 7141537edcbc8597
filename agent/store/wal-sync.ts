/**
 * The group commit's fsync. With `synchronous = NORMAL` in WAL mode SQLite appends each commit to the
 * WAL file without an fsync; a commit is durable once those bytes are on the storage. fsync(2) applies
 * to the file, not to the descriptor it is called on, so an fsync of our own descriptor of `<db>-wal`
 * makes every commit SQLite wrote before the call durable. It runs on libuv's thread pool (fs.fsync), so
 * the event loop never waits for the SD card.
 *
 * SQLite keeps the file consistent on its own: its checkpoints (which copy the WAL into the database
 * file) fsync both files in NORMAL mode before the WAL is reused. Those run on the agent's thread, but
 * rarely: at the hourly prune and when the WAL reaches its cap.
 *
 * This replaced a PASSIVE checkpoint once a second on a worker thread: a worker is a second V8 isolate
 * and Node.js environment, about 8 MB of resident memory on a device with a 200 MB budget, to do one
 * fsync. SQLite holds no locks on the WAL file itself (WAL-mode locks live on the database and `-shm`
 * files), so opening and closing a descriptor of it cannot drop one of SQLite's POSIX locks.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open } from 'node:fs/promises';

/** fsync(2) of a whole file by path; a file that does not exist (no WAL yet, or it was deleted at close) has nothing to sync. */
export interface FileSyncer {
  sync(path: string): Promise<void>;
  syncNow(path: string): void;
}

const isMissing = (err: unknown) => (err as { code?: unknown }).code === 'ENOENT';

export const fileSyncer: FileSyncer = {
  async sync(path) {
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  syncNow(path) {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  },
};

export class WalSync {
  private inFlight = false;
  /** Asked again while one was running: commits made after that one started still need an fsync. */
  private queued = false;

  constructor(
    private readonly walPath: string,
    /** A background fsync failed: the commits it covered are not durable yet. */
    private readonly onFailure: (err: unknown) => void,
    private readonly files: FileSyncer = fileSyncer,
  ) {}

  /** Makes every commit made so far durable, in the background; requests made while one runs become one more. */
  request(): void {
    if (this.inFlight) {
      this.queued = true;
      return;
    }
    this.inFlight = true;
    this.files
      .sync(this.walPath)
      .catch((err: unknown) => this.onFailure(err))
      .finally(() => {
        this.inFlight = false;
        if (!this.queued) return;
        this.queued = false;
        this.request();
      });
  }

  /** The same, done before it returns (an alert). Throws the file system's error. */
  now(): void {
    this.files.syncNow(this.walPath);
  }
}
