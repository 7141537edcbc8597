/**
 * `edge-agent capture`: takes N frames from a camera driver and writes them as JPEG files, a user's first
 * check that the camera works (and what it sees), and a hook for tests.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import sharp from 'sharp';
import type { CameraConfig } from '../config/types.js';
import { numberOption, parseCommandArgs } from './args.js';
import { CliError, ExitCode, UsageError } from '../lib/exit-codes.js';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../lib/log.js';
import { CAMERA_DRIVERS, CameraConfigError, CameraInputError, CameraUnavailableError, createCamera, type Camera } from '../../drivers/camera/index.js';

/** The drivers that capture (`none` is no camera). */
const DRIVERS = CAMERA_DRIVERS.filter((driver) => driver !== 'none');

const USAGE = `usage: edge-agent capture [--config FILE] [--camera DRIVER] [driver options] --frames N --out DIR

Writes N frames from the camera as DIR/frame-000001.jpg, frame-000002.jpg, ... and prints a summary.
The camera is the configuration's (--config, else the defaults) with the options below on top, so
\`edge-agent capture --config /etc/edge-agent/config.yaml --frames 3 --out /tmp/cam\` checks the camera
the daemon will use.

options:
  --config FILE          take the camera section of this configuration (YAML or JSON)
  --camera DRIVER        rpicam (rpicam-vid stream), still (periodic stills), ffmpeg (USB/RTSP), dir (replay)
  --frames N             frames to write (required)
  --out DIR              folder for the files, created if missing (required)
  --width N --height N   frame size
  --fps N                frames a second
  --rotation 0|180       rotate the image (rpicam, still, ffmpeg)
  --hflip --vflip        mirror the image
  --index N              camera number when a Pi has two (rpicam, still)
  --input SRC            ffmpeg: /dev/videoN, rtsp:// or http(s):// URL, or lavfi:<filter graph>
  --dir DIR              dir: folder of .jpg/.jpeg/.png images, replayed in name order
  --loop / --no-loop     dir: start again after the last image, or not
  --still-interval S     still: seconds between stills
  --stall-timeout S      restart the capture program after S seconds without a frame
  --timeout S            give up after S seconds (default: 30, or three times the expected capture time)
  --verbose              log what the driver does (stderr)

Defaults are the configuration's (see docs/camera.md).`;

const OPTIONS = {
  config: { type: 'string' },
  camera: { type: 'string' },
  frames: { type: 'string' },
  out: { type: 'string' },
  width: { type: 'string' },
  height: { type: 'string' },
  fps: { type: 'string' },
  rotation: { type: 'string' },
  hflip: { type: 'boolean' },
  vflip: { type: 'boolean' },
  index: { type: 'string' },
  input: { type: 'string' },
  dir: { type: 'string' },
  loop: { type: 'boolean' },
  'no-loop': { type: 'boolean' },
  'still-interval': { type: 'string' },
  'stall-timeout': { type: 'string' },
  timeout: { type: 'string' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseCommandArgs<typeof OPTIONS>>['values'];

interface CaptureRequest {
  config: CameraConfig;
  frames: number;
  out: string;
  timeoutMs: number;
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS);
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return ExitCode.OK;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const request = captureRequest(values);
  // Logs go to stderr: stdout is the summary.
  const logger = createLogger(values.verbose ? 'debug' : 'warn', pino.destination({ dest: 2, sync: true }));
  const camera = asCliError(() => createCamera(request.config, { logger }));
  await mkdir(request.out, { recursive: true });
  return capture(camera, request);
}

function captureRequest(values: Values): CaptureRequest {
  const driver = values.camera;
  if (driver !== undefined && !(DRIVERS as readonly string[]).includes(driver)) {
    throw new UsageError(`--camera: ${JSON.stringify(driver)} is not one of ${DRIVERS.join(', ')}`);
  }
  const frames = numberOption('frames', values.frames, (n) => Number.isInteger(n) && n >= 1 && n <= 1_000_000);
  if (frames === undefined) throw new UsageError('--frames N is required');
  if (values.out === undefined || values.out === '') throw new UsageError('--out DIR is required');
  // Flags go on top of the configuration and through its validation, like `run`'s (unset ones are ignored).
  const flags: Partial<Record<keyof CameraConfig, unknown>> = {
    driver,
    width: numberOption('width', values.width),
    height: numberOption('height', values.height),
    fps: numberOption('fps', values.fps),
    rotation: numberOption('rotation', values.rotation),
    hflip: values.hflip,
    vflip: values.vflip,
    index: numberOption('index', values.index),
    dir: values.dir,
    loop: values['no-loop'] ? false : values.loop,
    input: values.input,
    stall_timeout_s: numberOption('stall-timeout', values['stall-timeout']),
    still_interval_s: numberOption('still-interval', values['still-interval']),
  };
  const config = loadConfig({ file: values.config, overrides: { camera: flags } }).camera;
  if (config.driver === 'none') {
    throw new UsageError(`no camera: pass --camera (${DRIVERS.join(', ')}) or a --config whose camera.driver is set`);
  }
  const frameSeconds = config.driver === 'still' ? config.still_interval_s + 1 : 1 / config.fps;
  const timeoutS = numberOption('timeout', values.timeout, (n) => n > 0) ?? Math.max(30, 3 * frames * frameSeconds);
  return { config, frames, out: resolve(values.out), timeoutMs: timeoutS * 1000 };
}

async function capture(camera: Camera, request: CaptureRequest): Promise<number> {
  const startedAt = performance.now();
  let ending: 'timeout' | 'signal' | null = null;
  const stopFor = (why: 'timeout' | 'signal') => () => {
    ending ??= why;
    void camera.stop();
  };
  const onSignal = stopFor('signal');
  const deadline = setTimeout(stopFor('timeout'), request.timeoutMs);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let written = 0;
  let firstFrame: Buffer | null = null;
  try {
    await camera.start().catch((err: unknown) => {
      throw toCliError(err);
    });
    for await (const frame of camera) {
      written++;
      firstFrame ??= frame.jpeg;
      await writeFile(join(request.out, `frame-${String(written).padStart(6, '0')}.jpg`), frame.jpeg);
      if (written === request.frames) break;
    }
  } finally {
    clearTimeout(deadline);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await camera.stop();
  }

  const stats = camera.stats();
  const seconds = (performance.now() - startedAt) / 1000;
  const size = firstFrame ? await describeImage(firstFrame) : 'no image';
  process.stdout.write(
    `captured ${written} of ${request.frames} frames (${size}) from ${camera.name} in ${seconds.toFixed(1)} s into ${request.out}: ` +
      `${stats.fps} fps, ${stats.dropped} dropped, ${stats.restarts} restarts\n`,
  );
  if (written === request.frames) return ExitCode.OK;
  const lastError = stats.last_error ? ` (last error: ${stats.last_error})` : '';
  if (ending === 'signal') throw new CliError(`interrupted after ${written} of ${request.frames} frames`, ExitCode.FAILURE);
  if (ending === 'timeout') {
    throw new CliError(`only ${written} of ${request.frames} frames within ${request.timeoutMs / 1000} s${lastError}`, ExitCode.UNAVAILABLE);
  }
  throw new CliError(`the camera ended after ${written} of ${request.frames} frames${lastError}`, ExitCode.FAILURE);
}

async function describeImage(jpeg: Buffer): Promise<string> {
  try {
    const { width, height } = await sharp(jpeg).metadata();
    return `${width}x${height} JPEG`;
  } catch (err) {
    return `undecodable: ${(err as Error).message}`;
  }
}

/** The driver's error kinds as exit statuses: flags (2), missing input (66), missing program (69). */
function toCliError(err: unknown): unknown {
  if (err instanceof CameraConfigError) return new UsageError(err.message);
  if (err instanceof CameraInputError) return new CliError(err.message, ExitCode.NO_INPUT);
  if (err instanceof CameraUnavailableError) return new CliError(err.message, ExitCode.UNAVAILABLE);
  return err;
}

function asCliError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw toCliError(err);
  }
}
