/**
 * LazyFS (../shared/tools/lazyfs): a FUSE file system that keeps written data in its own cache until it is
 * fsynced, and drops every unsynced byte on `lazyfs::clear-cache`, which is what a power cut does to an SD
 * card. Built at test time (the build is cached in .tmp/lazyfs, never committed); needs root, /dev/fuse and
 * Debian's fuse3, cmake, g++, libtoml11-dev, libspdlog-dev (.ci/run installs them). Anything missing
 * fails the test with what to do, never skips it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { vi } from 'vitest';
import { packageRoot } from '../../agent/lib/paths.js';

const run = promisify(execFile);
const BUILD_SCRIPT = resolve(process.env.EDGE_AGENT_LAZYFS ?? join(packageRoot(), '..', 'shared', 'tools', 'lazyfs', 'build.sh'));
const BUILD_DIR = join(packageRoot(), '.tmp', 'lazyfs');

/** Builds LazyFS once (minutes the first time) and returns the binary's path. */
export async function buildLazyFs(): Promise<string> {
  if (!existsSync(BUILD_SCRIPT)) {
    throw new Error(`missing ${BUILD_SCRIPT}: clone the project beside shared/ (../shared/tools/lazyfs) or set EDGE_AGENT_LAZYFS to its build.sh`);
  }
  if (!existsSync('/dev/fuse')) throw new Error('/dev/fuse is missing: the power-cut test needs FUSE (a machine or container with /dev/fuse, as root)');
  try {
    const { stdout } = await run('bash', [BUILD_SCRIPT, BUILD_DIR], { maxBuffer: 16 * 1024 * 1024 });
    return stdout.trim().split('\n').at(-1)!;
  } catch (err) {
    throw new Error(`LazyFS could not be built with ${BUILD_SCRIPT}: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`);
  }
}

export class LazyFs {
  private output = '';

  private constructor(
    /** The mount point: what is written here lives in LazyFS's cache until fsynced. */
    readonly dir: string,
    private readonly base: string,
    private readonly fifo: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
  }

  static async mount(binary: string): Promise<LazyFs> {
    const base = mkdtempSync(join(tmpdir(), 'edge-lazyfs-'));
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
          if (child.exitCode !== null) throw new Error(`LazyFS exited (${child.exitCode}): ${fs.output.slice(-2000)}`);
          if (!readFileSync('/proc/mounts', 'utf8').includes(` ${dir} fuse.lazyfs `)) throw new Error(`LazyFS is not mounted on ${dir} yet: ${fs.output.slice(-500)}`);
        },
        { timeout: 120_000, interval: 100 },
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
    await writeFile(this.fifo, 'lazyfs::clear-cache\n');
    await vi.waitFor(
      () => {
        if (this.output.split('cache is cleared').length === before) throw new Error(`LazyFS has not cleared its cache: ${this.output.slice(-500)}`);
      },
      { timeout: 60_000, interval: 50 },
    );
  }

  async unmount(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolveExit) => this.child.once('exit', resolveExit));
      await run('fusermount3', ['-u', this.dir]).catch(() => this.child.kill('SIGKILL'));
      await exited;
    }
    rmSync(this.base, { recursive: true, force: true });
  }
}
