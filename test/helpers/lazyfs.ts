/**
 * LazyFS (../shared/tools/lazyfs): a FUSE file system that keeps written data in its own cache until it is
 * fsynced, and drops every unsynced byte on `lazyfs::clear-cache`, which is what a power cut does to an SD
 * card. Built at test time (the build is cached in .tmp/lazyfs, never committed); needs root, /dev/fuse and
 * Debian's fuse3, cmake, g++, libtoml11-dev, libspdlog-dev (.ci/run installs them). Anything missing
 * fails the test with what to do, never skips it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { vi } from 'vitest';
import { packageRoot } from '../../agent/lib/paths.js';
import { valueWithin } from '../../agent/lib/timing.js';

const run = promisify(execFile);
const BUILD_SCRIPT = resolve(process.env.EDGE_AGENT_LAZYFS ?? join(packageRoot(), '..', 'shared', 'tools', 'lazyfs', 'build.sh'));
const BUILD_DIR = join(packageRoot(), '.tmp', 'lazyfs');
/**
 * Every step is bounded, so a step that never ends fails with its own name and output instead of running
 * into the test's hook timeout with nothing to say. The build takes about 25 s on an idle 2-core machine.
 */
export const LAZYFS_BUILD_TIMEOUT_MS = 600_000;
const MOUNT_TIMEOUT_MS = 120_000;
const UNMOUNT_TIMEOUT_MS = 30_000;

/** Builds LazyFS once (seconds to minutes the first time) and returns the binary's path. */
export async function buildLazyFs(): Promise<string> {
  if (!existsSync(BUILD_SCRIPT)) {
    throw new Error(`missing ${BUILD_SCRIPT}: clone the project beside shared/ (../shared/tools/lazyfs) or set EDGE_AGENT_LAZYFS to its build.sh`);
  }
  if (!existsSync('/dev/fuse')) throw new Error('/dev/fuse is missing: the power-cut test needs FUSE (a machine or container with /dev/fuse, as root)');
  const started = Date.now();
  try {
    const { stdout } = await run('bash', [BUILD_SCRIPT, BUILD_DIR], { maxBuffer: 16 * 1024 * 1024, timeout: LAZYFS_BUILD_TIMEOUT_MS, killSignal: 'SIGKILL' });
    return stdout.trim().split('\n').at(-1)!;
  } catch (err) {
    const log = join(BUILD_DIR, 'build.log');
    const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-3000) : '(no build log)';
    const { stderr, killed } = err as { stderr?: string; killed?: boolean };
    const what = killed ? `did not finish in ${LAZYFS_BUILD_TIMEOUT_MS / 1000} s` : 'failed';
    throw new Error(`LazyFS build with ${BUILD_SCRIPT} ${what} (after ${Date.now() - started} ms): ${stderr || (err as Error).message}\nlast lines of ${log}:\n${tail}`);
  }
}

export class LazyFs {
  private output = '';
  private spawnError: Error | undefined;

  private constructor(
    /** The mount point: what is written here lives in LazyFS's cache until fsynced. */
    readonly dir: string,
    private readonly base: string,
    private readonly fifo: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.on('error', (err) => (this.spawnError = err));
  }

  static async mount(binary: string): Promise<LazyFs> {
    // LazyFS ignores `--config-path X` when X contains "-o" in any case (it takes it for a FUSE option,
    // src/main.cpp) and then fails on config/default.toml: with a "edge-lazyfs-" prefix, one random suffix
    // in about 20 started with o or O. No dash in the prefix, and a clear error if TMPDIR has one.
    const base = mkdtempSync(join(tmpdir(), 'edge_lazyfs_'));
    if (/-o/i.test(base)) throw new Error(`LazyFS would ignore its configuration under ${base} (a path containing "-o"): set TMPDIR to a folder without one`);
    const dir = join(base, 'mnt');
    const root = join(base, 'root');
    const fifo = join(base, 'faults.fifo');
    mkdirSync(dir);
    mkdirSync(root);
    const config = join(base, 'lazyfs.toml');
    writeFileSync(
      config,
      [
        '[faults]',
        `fifo_path="${fifo}"`,
        '[cache]',
        'apply_eviction=false',
        '[cache.simple]',
        // Its cache is allocated up front: enough for the agent's database and snapshots in the test.
        'custom_size="128mb"',
        'blocks_per_page=1',
        '[filesystem]',
        'log_all_operations=false',
        'logfile=""',
        '',
      ].join('\n'),
    );
    const args = [dir, '--config-path', config, '-o', 'allow_other', '-o', 'modules=subdir', '-o', `subdir=${root}`, '-f'];
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const fs = new LazyFs(dir, base, fifo, child);
    try {
      await vi.waitFor(
        () => {
          if (fs.spawnError) throw new Error(`LazyFS could not be started (${binary}): ${fs.spawnError.message}`);
          if (child.exitCode !== null) throw new Error(`LazyFS exited (${child.exitCode}): ${fs.output.slice(-2000)}`);
          if (!readFileSync('/proc/mounts', 'utf8').includes(` ${dir} fuse.lazyfs `)) throw new Error(`LazyFS is not mounted on ${dir} yet: ${fs.output.slice(-500)}`);
        },
        { timeout: MOUNT_TIMEOUT_MS, interval: 100 },
      );
    } catch (err) {
      await fs.unmount();
      throw err;
    }
    return fs;
  }

  /** Drops every write not yet fsynced, as a power cut would (kill the writers first). */
  async clearCache(): Promise<void> {
    const before = this.output.split('cache is cleared').length;
    // Non-blocking: opening a FIFO to write waits for a reader, for ever if LazyFS has died (ENXIO instead).
    const fifo = await open(this.fifo, constants.O_WRONLY | constants.O_NONBLOCK).catch((err: Error) => {
      throw new Error(`LazyFS's fault FIFO has no reader (${err.message}): ${this.output.slice(-500)}`);
    });
    try {
      await fifo.write('lazyfs::clear-cache\n');
    } finally {
      await fifo.close();
    }
    await vi.waitFor(
      () => {
        if (this.output.split('cache is cleared').length === before) throw new Error(`LazyFS has not cleared its cache: ${this.output.slice(-500)}`);
      },
      { timeout: 60_000, interval: 50 },
    );
  }

  /**
   * Unmounts and stops LazyFS, each step bounded: a clean unmount, else SIGKILL and a lazy unmount (which
   * detaches even a mount whose daemon hangs). Its folder is removed only once nothing is mounted there,
   * since removing files through a hung FUSE mount would block this process.
   */
  async unmount(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<true>((resolveExit) => this.child.once('exit', () => resolveExit(true)));
      const clean = await run('fusermount3', ['-u', this.dir], { timeout: UNMOUNT_TIMEOUT_MS, killSignal: 'SIGKILL' }).then(
        () => valueWithin(exited, UNMOUNT_TIMEOUT_MS, false),
        () => false,
      );
      if (!clean) {
        this.child.kill('SIGKILL');
        await run('fusermount3', ['-u', '-z', this.dir], { timeout: UNMOUNT_TIMEOUT_MS, killSignal: 'SIGKILL' }).catch(() => undefined);
        if (!(await valueWithin(exited, UNMOUNT_TIMEOUT_MS, false))) console.warn(`LazyFS (pid ${this.child.pid}) did not exit after SIGKILL: ${this.output.slice(-500)}`);
      }
    }
    if (readFileSync('/proc/mounts', 'utf8').includes(` ${this.dir} `)) {
      console.warn(`LazyFS is still mounted on ${this.dir}; its folder ${this.base} is left in place`);
      return;
    }
    rmSync(this.base, { recursive: true, force: true });
  }
}
