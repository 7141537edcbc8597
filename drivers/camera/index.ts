/**
 * The camera drivers behind the `Camera` seam, and the one factory the daemon and the CLI use to build
 * a camera from `camera:` config.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../agent/lib/timing.js';
import { checkCameraConfig } from './config-check.js';
import { DirCamera } from './dir.js';
import { CameraConfigError } from './errors.js';
import { classifyFfmpegInput, ffmpegSpec } from './ffmpeg.js';
import { supervisorTiming, type SupervisorTiming } from './process-supervisor.js';
import { RPICAM_ROW_ALIGN, RPICAM_VID_PROGRAMS, rpicamVidSpec } from './rpicam.js';
import { StillCamera } from './still.js';
import { STILL_PROGRAMS } from './still-capture.js';
import { frameSplitter, StreamCamera } from './stream-camera.js';
import { CAMERA_DRIVERS, type Camera, type CameraDriver, type CameraOptions } from './types.js';

export type { Camera, CameraDriver, CameraFormat, CameraOptions, CameraStats, Frame, FrameImage, JpegImage, Yuv420Image } from './types.js';
export { CAMERA_DRIVERS, CAMERA_FORMATS } from './types.js';
export { frameLuma, frameRgb, frameSize, frameToJpeg } from './frame-pixels.js';
export { CAMERA_LIMITS, type NumberRange } from './config-check.js';
export { CameraConfigError, CameraInputError, CameraUnavailableError } from './errors.js';
export { findExecutable, findFirstExecutable } from './child-process.js';

/** The programs a driver runs, in the order it looks for them on PATH (doctor looks for the same). */
export const CAMERA_PROGRAMS: Partial<Record<CameraDriver, readonly string[]>> = {
  rpicam: RPICAM_VID_PROGRAMS,
  still: STILL_PROGRAMS,
  ffmpeg: ['ffmpeg'],
};

export interface CameraDeps {
  logger: Logger;
  clock?: Clock;
  /** Environment of rpicam-vid / ffmpeg (PATH finds them); default: this process's. */
  env?: NodeJS.ProcessEnv;
  /**
   * Restart timing; the stall timeout comes from `camera.stall_timeout_s`. Defaults: backoff 1 s to
   * 60 s, SIGKILL 3 s after SIGTERM. Tests shorten them.
   */
  timing?: Partial<Omit<SupervisorTiming, 'stallTimeoutMs'>>;
}

/**
 * Builds the configured camera (not started). Throws CameraConfigError for settings a driver cannot
 * use, including `driver: none`, which is no camera at all: check for it before calling.
 */
export function createCamera(config: CameraOptions, deps: CameraDeps): Camera {
  checkCameraConfig(config);
  const logger = deps.logger.child({ module: 'camera' });
  const env = deps.env ?? process.env;
  const timing = supervisorTiming(config.stall_timeout_s * 1000, deps.timing);
  switch (config.driver) {
    case 'rpicam': {
      const splitter = frameSplitter(config.format, config.width, config.height, RPICAM_ROW_ALIGN);
      return new StreamCamera('rpicam', () => rpicamVidSpec(config, env), splitter, { logger, clock: deps.clock, env, timing });
    }
    case 'ffmpeg': {
      classifyFfmpegInput(config.input); // a bad input is a config error now, not a restart loop later
      const splitter = frameSplitter(config.format, config.width, config.height, 1);
      return new StreamCamera('ffmpeg', () => ffmpegSpec(config, env), splitter, { logger, clock: deps.clock, env, timing });
    }
    case 'dir':
      return new DirCamera(config, { logger, clock: deps.clock });
    case 'still':
      return new StillCamera(config, { logger, clock: deps.clock, backoff: timing.backoff, killTimeoutMs: timing.killTimeoutMs });
    case 'none':
      throw new CameraConfigError('camera.driver is "none": there is no camera to create (vision is off)');
    default:
      throw new CameraConfigError(`camera.driver ${JSON.stringify(config.driver)} is not one of ${CAMERA_DRIVERS.join(', ')}`);
  }
}
