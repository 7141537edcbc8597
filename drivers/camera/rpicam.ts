/**
 * The Raspberry Pi camera in stream mode: one long-lived `rpicam-vid` writing frames to stdout, raw
 * yuv420 by default (the ISP's own output: nothing encoded on the Pi, nothing decoded in the agent), or
 * MJPEG with `camera.format: mjpeg`.
 * Raspberry Pi OS renamed libcamera-vid to rpicam-vid (Bookworm, late 2023) and recent images dropped the
 * old name, while older images only have it: take whichever is on PATH, the new name first.
 */
import type { CameraOptions } from './types.js';
import { findFirstExecutable } from './child-process.js';
import { CameraUnavailableError } from './errors.js';
import type { ProcessSpec } from './process-supervisor.js';

export const RPICAM_VID_PROGRAMS = ['rpicam-vid', 'libcamera-vid'] as const;

/**
 * rpicam-vid writes yuv420 frames as libcamera's buffers hold them: Y rows padded to a multiple of 64
 * bytes, U and V rows to 32 (a 780-wide frame arrives with 832-byte Y rows). The splitter cuts and crops
 * by this.
 */
export const RPICAM_ROW_ALIGN = 64;

/** The arguments for an endless stream on stdout, no preview window, from the validated config. */
export function rpicamVidArgs(config: CameraOptions): string[] {
  const args = ['--codec', config.format, '--timeout', '0', '--nopreview', '--flush', '--output', '-'];
  args.push('--width', String(config.width), '--height', String(config.height), '--framerate', String(config.fps));
  // Only non-defaults, so an older libcamera-vid that predates an option still starts.
  if (config.index !== 0) args.push('--camera', String(config.index));
  if (config.rotation === 180) args.push('--rotation', '180');
  if (config.hflip) args.push('--hflip');
  if (config.vflip) args.push('--vflip');
  return args;
}

export function rpicamVidSpec(config: CameraOptions, env: NodeJS.ProcessEnv): ProcessSpec {
  const found = findFirstExecutable(RPICAM_VID_PROGRAMS, env);
  if (found) return { command: found.path, args: rpicamVidArgs(config) };
  throw new CameraUnavailableError(
    'neither rpicam-vid nor libcamera-vid was found on PATH: install rpicam-apps (sudo apt install rpicam-apps) or choose another camera driver',
  );
}
