/**
 * `edge-agent capture`: takes N frames from a camera driver and writes them as JPEG files, a user's first
 * check that the camera works (and what it sees), and a hook for tests.
 */
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import type { AgentConfig, CameraConfig } from '../config/types.js';
import { defineCommand, numberOption, type CommandIO, type OptionValues } from './command.js';
import { CliError, ExitCode, UsageError } from '../lib/exit-codes.js';
import { makeDirSync } from '../lib/make-dir.js';
import { loadConfig } from '../config/load.js';
import { DAY_S } from '../config/schema.js';
import { CAMERA_DRIVERS, createCamera, frameToJpeg, type Camera } from '../../drivers/camera/index.js';

/** The drivers that capture (`none` is no camera). */
const DRIVERS = CAMERA_DRIVERS.filter((driver) => driver !== 'none');

const usage = ({ camera }: AgentConfig) => `usage: edge-agent capture [--config FILE] [--camera DRIVER] [driver options] --frames N --out DIR

Writes N frames from the camera as DIR/frame-000001.jpg, frame-000002.jpg, ... (raw frames encoded to
JPEG) and prints a summary.
The camera is the configuration's (--config, else the defaults below) with the options below on top, so
\`edge-agent capture --config /etc/edge-agent/config.yaml --frames 3 --out /tmp/cam\` checks the camera
the daemon will use.

options:
  --config FILE          take the camera section of this configuration (YAML or JSON)
  --camera DRIVER        rpicam (rpicam-vid stream), still (periodic stills), ffmpeg (USB/RTSP), dir (replay)
  --frames N             frames to write (required)
  --out DIR              folder for the files, created if missing (required)
  --format F             rpicam, ffmpeg: yuv420 (raw frames) or mjpeg (default ${camera.format})
  --width N --height N   frame size (default ${camera.width}x${camera.height})
  --fps N                frames a second (default ${camera.fps})
  --rotation 0|180       rotate the image (rpicam, still, ffmpeg; default ${camera.rotation})
  --hflip --vflip        mirror the image
  --index N              camera number when a Pi has two (rpicam, still; default ${camera.index})
  --input SRC            ffmpeg: /dev/videoN, rtsp:// or http(s):// URL, or lavfi:<filter graph>
  --dir DIR              dir: folder of .jpg/.jpeg/.png images, replayed in name order
  --loop / --no-loop     dir: start again after the last image, or not (default ${camera.loop ? '--loop' : '--no-loop'})
  --still-interval S     still: seconds between stills (default ${camera.still_interval_s})
  --stall-timeout S      restart the capture program after S seconds without a frame (default ${camera.stall_timeout_s})
  --timeout S            give up after S seconds (default: 30, or three times the expected capture time)
  --verbose              log what the driver does (stderr)

The defaults are the configuration schema's (see docs/camera.md); with --config, the file's.`;

const OPTIONS = {
  config: { type: 'string' },
  camera: { type: 'string' },
  frames: { type: 'string' },
  out: { type: 'string' },
  format: { type: 'string' },
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
} as const;

type Values = OptionValues<typeof OPTIONS>;

interface CaptureRequest {
  config: CameraConfig;
  frames: number;
  out: string;
  timeoutMs: number;
}

export const command = defineCommand({
  usage,
  options: OPTIONS,
  async run({ values, logger, io }) {
    const request = captureRequest(values);
    const camera = createCamera(request.config, { logger });
    createOutputFolder(request.out);
    return capture(camera, request, io);
  },
});

/** One level at a time: a recursive mkdir under /proc never returns (it spins on procfs). */
function createOutputFolder(dir: string): void {
  try {
    makeDirSync(dir);
  } catch (err) {
    throw new CliError(`--out: cannot create ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, ExitCode.IO_ERROR);
  }
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
    format: values.format,
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
  // At most a day: a longer timer fires at once (Node's timers hold 24.8 days).
  const timeoutS = numberOption('timeout', values.timeout, (n) => n > 0 && n <= DAY_S) ?? Math.min(DAY_S, Math.max(30, 3 * frames * frameSeconds));
  return { config, frames, out: resolve(values.out), timeoutMs: timeoutS * 1000 };
}

async function capture(camera: Camera, request: CaptureRequest, io: CommandIO): Promise<number> {
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
    await camera.start();
    for await (const frame of camera) {
      written++;
      const jpeg = await frameToJpeg(frame.image);
      firstFrame ??= jpeg;
      await writeFile(join(request.out, `frame-${String(written).padStart(6, '0')}.jpg`), jpeg);
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
  io.stdout.write(
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
