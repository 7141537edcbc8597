import { describe, expect, it } from 'vitest';
import type { CameraConfig } from '../../../agent/config/types.js';
import { silentLogger } from '../../../agent/lib/log.js';
import { CameraConfigError, createCamera } from '../../../drivers/camera/index.js';
import { cameraConfig } from './helpers.js';

const create = (overrides: Record<string, unknown>) => () => createCamera(cameraConfig(overrides as Partial<CameraConfig>), { logger: silentLogger() });

describe('createCamera', () => {
  it('builds each driver, not yet started', async () => {
    for (const [driver, extra] of [
      ['rpicam', {}],
      ['still', {}],
      ['ffmpeg', { input: '/dev/video0' }],
      ['dir', { dir: '/nonexistent' }],
    ] as const) {
      const camera = create({ driver, ...extra })();
      expect(camera.name).toBe(driver);
      expect(camera.stats()).toEqual({ fps: 0, frames: 0, dropped: 0, restarts: 0, last_frame_age_ms: null, last_error: null });
      await camera.stop();
    }
  });

  it('refuses driver none: it is not a camera', () => {
    expect(create({ driver: 'none' })).toThrow(CameraConfigError);
    expect(create({ driver: 'none' })).toThrow(/camera.driver is "none"/);
    expect(create({ driver: 'webcam' })).toThrow(/camera.driver "webcam" is not one of rpicam, still, ffmpeg, dir, none/);
  });

  it('rejects settings out of range or of the wrong kind, naming the key and the value', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ width: 0 }, /camera.width must be a whole number from 64 to 4608, got 0/],
      [{ height: 480.5 }, /camera.height must be a whole number/],
      [{ width: '640; rm -rf /' }, /camera.width must be a whole number from 64 to 4608, got "640; rm -rf \/"/],
      [{ fps: 0 }, /camera.fps must be a number from 0.01 to 60, got 0/],
      [{ fps: 61 }, /camera.fps must be a number from 0.01 to 60, got 61/],
      [{ fps: Number.NaN }, /camera.fps must be a number/],
      [{ index: -1 }, /camera.index must be a whole number from 0 to 15/],
      [{ rotation: 90 }, /camera.rotation must be 0 or 180/],
      [{ hflip: 'yes' }, /camera.hflip must be true or false, got "yes"/],
      [{ stall_timeout_s: 0 }, /camera.stall_timeout_s must be a number/],
      [{ still_interval_s: -1 }, /camera.still_interval_s must be a number/],
      [{ driver: 'ffmpeg', input: null }, /camera.input is required by the ffmpeg driver/],
      [{ driver: 'ffmpeg', input: '/etc/passwd; reboot' }, /camera.input "\/etc\/passwd; reboot" is not a V4L2 device/],
    ];
    for (const [overrides, message] of cases) {
      expect(create(overrides), JSON.stringify(overrides)).toThrow(CameraConfigError);
      expect(create(overrides), JSON.stringify(overrides)).toThrow(message);
    }
  });
});
