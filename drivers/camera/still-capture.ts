/**
 * Taking one still image into a file: rpicam-still run directly where it exists (Raspberry Pi OS
 * Bookworm and later, where `libcamera-still` is only a compatibility link to it), else libcamera-still
 * through node-libcamera (Bullseye and older images, which have only the old name).
 *
 * node-libcamera joins `--key value` pairs into one string and runs it with `child_process.exec`, that
 * is through /bin/sh, buffering stdout as text. So the options built here hold only validated numbers,
 * fixed words and an output path checked to be plain characters, and the image always goes to a file,
 * never through stdout. (It also turns `false` into `--key false`, so false flags are left out.)
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import type { CameraOptions } from './types.js';
import { AbortedError, valueWithin, withTimeout } from '../../agent/lib/timing.js';
import { describeExit, findFirstExecutable, StderrLines, terminateChild } from './child-process.js';
import { CameraConfigError, CameraUnavailableError } from './errors.js';

/** The still programs in the order they are looked for on PATH: the current name first. */
export const STILL_PROGRAMS = ['rpicam-still', 'libcamera-still'] as const;

/** Options of libcamera-still / rpicam-still, by their long names. */
export type StillOptions = Record<string, string | number | true>;

/** How long the camera runs before the still is taken, so exposure and white balance settle. */
export const STILL_SETTLE_MS = 1000;

export function stillOptions(config: CameraOptions, output: string): StillOptions {
  const options: StillOptions = {
    output,
    timeout: STILL_SETTLE_MS,
    nopreview: true,
    encoding: 'jpg',
    width: config.width,
    height: config.height,
  };
  if (config.index !== 0) options.camera = config.index;
  if (config.rotation === 180) options.rotation = 180;
  if (config.hflip) options.hflip = true;
  if (config.vflip) options.vflip = true;
  return options;
}

/** The same options as an argument array for running the program without a shell. */
export function stillArgs(options: StillOptions): string[] {
  return Object.entries(options).flatMap(([key, value]) => (value === true ? [`--${key}`] : [`--${key}`, String(value)]));
}

export interface StillCapturer {
  /** The program that takes the picture, for messages. */
  readonly program: string;
  /** Takes one still into `options.output`; rejects with the program's complaint or on timeout. */
  capture(options: StillOptions, timeoutMs: number, signal: AbortSignal): Promise<void>;
  /** After an abort: waits, at most `graceMs`, for a program that may still be running to end. */
  drain(graceMs: number): Promise<void>;
}

/**
 * The first of STILL_PROGRAMS on PATH: rpicam-still runs without a shell (and can be killed);
 * libcamera-still runs through node-libcamera, whose shell inherits this process's environment, so the
 * lookup uses `process.env` too. `workDir` is where the stills go: it must be safe to put in a shell
 * command when node-libcamera is used.
 */
export function chooseStillCapturer(workDir: string, killTimeoutMs: number): StillCapturer {
  const found = findFirstExecutable(STILL_PROGRAMS, process.env);
  if (!found) {
    throw new CameraUnavailableError(
      `neither ${STILL_PROGRAMS.join(' nor ')} was found on PATH: install rpicam-apps (sudo apt install rpicam-apps) or choose another camera driver`,
    );
  }
  if (found.name === 'rpicam-still') return new DirectStill(found.path, killTimeoutMs);
  assertShellSafe(workDir);
  return new NodeLibcameraStill();
}

/** How a capture ends when the camera is stopped. */
const STOPPED = 'capture stopped';

// Only characters no shell treats specially; mkdtemp's random suffix is [A-Za-z0-9].
const SHELL_SAFE_PATH = /^[A-Za-z0-9_./-]+$/;

function assertShellSafe(path: string): void {
  if (!SHELL_SAFE_PATH.test(path)) {
    throw new CameraConfigError(`still capture folder ${JSON.stringify(path)} has characters a shell would interpret: set TMPDIR to a plain path`);
  }
}

type NodeLibcamera = { still(options: object): Promise<string> };

class NodeLibcameraStill implements StillCapturer {
  readonly program = 'libcamera-still';
  /** The previous run, which may outlive its timeout: node-libcamera gives no handle to kill it. */
  private previous: Promise<unknown> = Promise.resolve();

  async capture(options: StillOptions, timeoutMs: number, signal: AbortSignal): Promise<void> {
    assertShellSafe(String(options.output));
    // Never two processes at the camera: a run that timed out must finish before the next starts.
    await withTimeout(this.previous, timeoutMs, { signal, abortMessage: STOPPED, message: `the previous libcamera-still is still running after ${timeoutMs / 1000} s` });
    // The CommonJS build, whatever a bundler's "module" field says: its ESM build only prints the
    // command when NODE_ENV is 'test'.
    const run = (createRequire(import.meta.url)('node-libcamera') as NodeLibcamera).still(options);
    this.previous = run.catch(() => undefined);
    await withTimeout(run, timeoutMs, { signal, abortMessage: STOPPED, message: `libcamera-still gave no image within ${timeoutMs / 1000} s` });
  }

  async drain(graceMs: number): Promise<void> {
    await valueWithin(this.previous, graceMs, undefined);
  }
}

class DirectStill implements StillCapturer {
  readonly program: string;

  constructor(
    private readonly command: string,
    private readonly killTimeoutMs: number,
  ) {
    this.program = basename(command);
  }

  /** Nothing to wait for: an abort kills the program and capture() settles once it has exited. */
  drain(): Promise<void> {
    return Promise.resolve();
  }

  capture(options: StillOptions, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(new AbortedError(STOPPED));
    return new Promise((resolve, reject) => {
      const child = spawn(this.command, stillArgs(options), { stdio: ['ignore', 'ignore', 'pipe'] });
      const stderr = new StderrLines(() => undefined, 5);
      child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        void terminateChild(child, this.killTimeoutMs);
      }, timeoutMs);
      const abort = () => void terminateChild(child, this.killTimeoutMs);
      signal.addEventListener('abort', abort, { once: true });
      const settle = (error: Error | null) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', abort);
        if (error) reject(error);
        else resolve();
      };
      child.on('error', (err) => {
        if (child.pid === undefined) settle(new Error(`cannot run ${this.command}: ${err.message}`));
      });
      child.on('close', (code, exitSignal) => {
        stderr.flush();
        if (code === 0) return settle(null);
        const why = timedOut ? `gave no image within ${timeoutMs / 1000} s` : describeExit(code, exitSignal);
        const said = stderr.tail.length > 0 ? `: ${stderr.tail.join(' | ')}` : '';
        settle(new Error(`${this.program} ${why}${said}`));
      });
    });
  }
}
