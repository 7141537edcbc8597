/**
 * USB webcams (V4L2 devices) and network cameras (RTSP/HTTP) through one ffmpeg process that writes
 * frames to stdout (raw yuv420 by default, MJPEG with `camera.format: mjpeg`); the same splitters, watchdog and restarts as rpicam-vid. `lavfi:<filter graph>` (for
 * example `lavfi:testsrc=size=640x480:rate=10`) uses ffmpeg's synthetic sources: demos and tests.
 */
import type { CameraOptions } from './types.js';
import { findExecutable } from './child-process.js';
import { CameraConfigError, CameraUnavailableError } from './errors.js';
import type { ProcessSpec } from './process-supervisor.js';

export type FfmpegInput =
  | { kind: 'v4l2'; device: string }
  | { kind: 'network'; url: string; rtsp: boolean }
  | { kind: 'lavfi'; graph: string };

const INPUT_HELP = 'a V4L2 device (/dev/videoN), an rtsp://, rtsps://, http:// or https:// URL, or lavfi:<filter graph>';

/** Says what kind of input `camera.input` names, or throws naming what is accepted. */
export function classifyFfmpegInput(input: string | null): FfmpegInput {
  if (typeof input !== 'string' || input.trim() === '') {
    throw new CameraConfigError(`camera.input is required by the ffmpeg driver: ${INPUT_HELP}`);
  }
  if (input.startsWith('lavfi:') && input.length > 'lavfi:'.length) return { kind: 'lavfi', graph: input.slice('lavfi:'.length) };
  if (/^\/dev\/\S+$/.test(input)) return { kind: 'v4l2', device: input };
  let url: URL | null = null;
  try {
    url = new URL(input);
  } catch {
    // not a URL: reported below
  }
  if (url && ['rtsp:', 'rtsps:', 'http:', 'https:'].includes(url.protocol)) {
    return { kind: 'network', url: input, rtsp: url.protocol.startsWith('rtsp') };
  }
  // ffmpeg would also read files, pipes and other protocols; only camera inputs are allowed on purpose.
  throw new CameraConfigError(`camera.input ${JSON.stringify(input)} is not ${INPUT_HELP}`);
}

function inputArgs(input: FfmpegInput, config: CameraOptions): string[] {
  switch (input.kind) {
    case 'v4l2':
      // Ask the device itself for the size and rate, so it does not capture more than is used.
      return ['-f', 'v4l2', '-video_size', `${config.width}x${config.height}`, '-framerate', String(config.fps), '-i', input.device];
    case 'network':
      // TCP: RTSP over UDP loses packets on Wi-Fi and gives torn frames.
      return input.rtsp ? ['-rtsp_transport', 'tcp', '-i', input.url] : ['-i', input.url];
    case 'lavfi':
      // -re: a synthetic source would otherwise run as fast as the CPU allows.
      return ['-re', '-f', 'lavfi', '-i', input.graph];
  }
}

function videoFilters(input: FfmpegInput, config: CameraOptions): string[] {
  const { width, height } = config;
  const filters: string[] = [];
  if (config.format === 'yuv420') {
    // A raw stream is cut by byte count, so every frame must be exactly width x height whatever the source
    // sends: fitted inside (aspect ratio kept: a stretched person is a worse detection) and padded,
    // converted to full range (the one range every yuv420 frame in the agent has; agent/lib/frame-image.ts).
    filters.push(`scale=${width}:${height}:force_original_aspect_ratio=decrease:force_divisible_by=2:out_range=full`, `pad=${width}:${height}:-1:-1`);
  } else if (input.kind !== 'v4l2') {
    // A V4L2 device already delivers the requested size; other sources are fitted inside it.
    filters.push(`scale=${width}:${height}:force_original_aspect_ratio=decrease:force_divisible_by=2`);
  }
  // rotation 180 is both flips; a flip on top of it cancels out.
  const rotated = config.rotation === 180;
  if (config.hflip !== rotated) filters.push('hflip');
  if (config.vflip !== rotated) filters.push('vflip');
  return filters;
}

/** The encoder and container of stdout: raw planar yuv420 frames, or one JPEG after another. */
function outputArgs(config: CameraOptions): string[] {
  if (config.format === 'yuv420') return ['-pix_fmt', 'yuv420p', '-f', 'rawvideo', 'pipe:1'];
  return ['-c:v', 'mjpeg', '-q:v', '5', '-f', 'mjpeg', 'pipe:1'];
}

export function ffmpegArgs(config: CameraOptions): string[] {
  const input = classifyFfmpegInput(config.input);
  const filters = videoFilters(input, config);
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    ...inputArgs(input, config),
    '-an',
    ...(filters.length > 0 ? ['-vf', filters.join(',')] : []),
    // At most `fps` frames a second: faster sources are thinned, slower ones are not padded with copies.
    '-fps_mode',
    'vfr',
    '-r',
    String(config.fps),
    ...outputArgs(config),
  ];
}

export function ffmpegSpec(config: CameraOptions, env: NodeJS.ProcessEnv): ProcessSpec {
  const command = findExecutable('ffmpeg', env);
  if (!command) throw new CameraUnavailableError('ffmpeg was not found on PATH: install it (sudo apt install ffmpeg) or choose another camera driver');
  return { command, args: ffmpegArgs(config) };
}
