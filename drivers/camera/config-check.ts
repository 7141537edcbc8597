import { CameraConfigError } from './errors.js';
import type { CameraOptions } from './types.js';

/**
 * Checks the camera settings every driver turns into process arguments. Values must be real numbers in
 * range and fixed enums, never strings: the still driver's library builds a shell command from them.
 */
export function checkCameraConfig(config: CameraOptions): void {
  integerIn('width', config.width, 16, 8192);
  integerIn('height', config.height, 16, 8192);
  numberIn('fps', config.fps, 0.01, 120);
  integerIn('index', config.index, 0, 15);
  numberIn('stall_timeout_s', config.stall_timeout_s, 0.1, 3600);
  numberIn('still_interval_s', config.still_interval_s, 0.1, 86_400);
  if (config.rotation !== 0 && config.rotation !== 180) {
    throw new CameraConfigError(`camera.rotation must be 0 or 180 (what rpicam-apps support), got ${JSON.stringify(config.rotation)}`);
  }
  for (const key of ['hflip', 'vflip', 'loop'] as const) {
    if (typeof config[key] !== 'boolean') throw new CameraConfigError(`camera.${key} must be true or false, got ${JSON.stringify(config[key])}`);
  }
}

function numberIn(key: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new CameraConfigError(`camera.${key} must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
}

function integerIn(key: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new CameraConfigError(`camera.${key} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
}
