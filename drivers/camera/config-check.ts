import { CameraConfigError } from './errors.js';
import { CAMERA_FORMATS, type CameraOptions } from './types.js';

/** An inclusive range; `integer` asks for a whole number. */
export interface NumberRange {
  integer: boolean;
  min: number;
  max: number;
}

/**
 * The ranges of the camera's numeric settings. The configuration schema takes its ranges from here, so
 * a value the file or the command line accepts is one every driver accepts (and `createCamera` still
 * checks what callers outside the configuration pass). Frames up to 4608x3456 cover every Raspberry Pi
 * camera module's sensor (Camera Module 3: 4608x2592, HQ: 4056x3040); the detector sees 640x640
 * however large the frame, so larger frames and more than 60 a second would only cost memory and time.
 */
export const CAMERA_LIMITS = {
  width: { integer: true, min: 64, max: 4608 },
  height: { integer: true, min: 64, max: 3456 },
  fps: { integer: false, min: 0.01, max: 60 },
  index: { integer: true, min: 0, max: 15 },
  stall_timeout_s: { integer: false, min: 1, max: 3600 },
  still_interval_s: { integer: false, min: 0.1, max: 86_400 },
} as const satisfies Partial<Record<keyof CameraOptions, NumberRange>>;

/**
 * Checks the camera settings every driver turns into process arguments. Values must be real numbers in
 * range and fixed enums, never strings: the still driver's library builds a shell command from them.
 */
export function checkCameraConfig(config: CameraOptions): void {
  for (const [key, range] of Object.entries(CAMERA_LIMITS) as [keyof typeof CAMERA_LIMITS, NumberRange][]) checkInRange(key, config[key], range);
  if (config.rotation !== 0 && config.rotation !== 180) {
    throw new CameraConfigError(`camera.rotation must be 0 or 180 (what rpicam-apps support), got ${JSON.stringify(config.rotation)}`);
  }
  if (!(CAMERA_FORMATS as readonly unknown[]).includes(config.format)) {
    throw new CameraConfigError(`camera.format must be one of ${CAMERA_FORMATS.join(', ')}, got ${JSON.stringify(config.format)}`);
  }
  // 4:2:0 chroma covers 2x2 pixels: libcamera and ffmpeg round an odd size, and the stream, cut by byte
  // count, would no longer match the configured size.
  if (config.format === 'yuv420' && (config.driver === 'rpicam' || config.driver === 'ffmpeg')) {
    for (const key of ['width', 'height'] as const) {
      if (config[key] % 2 !== 0) throw new CameraConfigError(`camera.${key} must be even with camera.format yuv420 (4:2:0 chroma covers 2x2 pixels), got ${config[key]}`);
    }
  }
  for (const key of ['hflip', 'vflip', 'loop'] as const) {
    if (typeof config[key] !== 'boolean') throw new CameraConfigError(`camera.${key} must be true or false, got ${JSON.stringify(config[key])}`);
  }
}

function checkInRange(key: string, value: unknown, { integer, min, max }: NumberRange): void {
  const valid = typeof value === 'number' && (integer ? Number.isInteger(value) : Number.isFinite(value)) && value >= min && value <= max;
  if (!valid) throw new CameraConfigError(`camera.${key} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(value)}`);
}
