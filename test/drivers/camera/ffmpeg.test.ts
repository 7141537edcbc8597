import { createServer } from 'node:net';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../agent/lib/log.js';
import { CameraConfigError, CameraUnavailableError, createCamera, frameRgb, type Camera } from '../../../drivers/camera/index.js';
import { classifyFfmpegInput, ffmpegArgs } from '../../../drivers/camera/ffmpeg.js';
import { captureLog } from '../../helpers/log-capture.js';
import { describeCameraContract } from './camera-contract.js';
import { cameraConfig, fakePath, fastTiming, jpegOf, takeFrames } from './helpers.js';

const cameras: Camera[] = [];
afterEach(async () => {
  await Promise.all(cameras.splice(0).map((camera) => camera.stop()));
});

function ffmpegCamera(overrides: Parameters<typeof cameraConfig>[0] = {}, logger = silentLogger(), env?: NodeJS.ProcessEnv): Camera {
  const config = cameraConfig({ driver: 'ffmpeg', input: 'lavfi:testsrc=size=320x240:rate=30', width: 320, height: 240, fps: 10, ...overrides });
  const camera = createCamera(config, { logger, timing: fastTiming, env });
  cameras.push(camera);
  return camera;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describeCameraContract('ffmpeg (lavfi testsrc, mjpeg)', () => ffmpegCamera(), { format: 'jpeg', fps: 10, size: { width: 320, height: 240 } });
// A 4:3 source into a 16:9 frame: the raw stream must still be exactly the configured size.
describeCameraContract('ffmpeg (lavfi testsrc, yuv420)', () => ffmpegCamera({ format: 'yuv420', width: 426, height: 240 }), {
  format: 'yuv420',
  fps: 10,
  size: { width: 426, height: 240 },
});

describe('ffmpeg driver', () => {
  it('accepts V4L2 devices, RTSP/HTTP URLs and lavfi graphs, and nothing else', () => {
    expect(classifyFfmpegInput('/dev/video0')).toEqual({ kind: 'v4l2', device: '/dev/video0' });
    expect(classifyFfmpegInput('rtsp://cam.local:554/stream1')).toEqual({ kind: 'network', url: 'rtsp://cam.local:554/stream1', rtsp: true });
    expect(classifyFfmpegInput('https://cam.local/mjpeg')).toEqual({ kind: 'network', url: 'https://cam.local/mjpeg', rtsp: false });
    expect(classifyFfmpegInput('lavfi:testsrc')).toEqual({ kind: 'lavfi', graph: 'testsrc' });
    for (const bad of [null, '', 'video.mp4', 'ftp://cam.local/x', 'lavfi:', 'file:///etc/passwd']) {
      expect(() => classifyFfmpegInput(bad), String(bad)).toThrow(CameraConfigError);
    }
    expect(() => classifyFfmpegInput('video.mp4')).toThrow(/camera.input "video.mp4" is not a V4L2 device/);
  });

  it('asks a V4L2 device for the size and rate, and uses TCP for RTSP', () => {
    const v4l2 = ffmpegArgs(cameraConfig({ driver: 'ffmpeg', input: '/dev/video2', width: 800, height: 600, fps: 5 }));
    expect(v4l2.join(' ')).toContain('-f v4l2 -video_size 800x600 -framerate 5 -i /dev/video2');
    expect(v4l2).not.toContain('-vf');
    const rtsp = ffmpegArgs(cameraConfig({ driver: 'ffmpeg', input: 'rtsp://cam.local/s', rotation: 180, hflip: true }));
    expect(rtsp.join(' ')).toContain('-rtsp_transport tcp -i rtsp://cam.local/s');
    // rotation 180 is both flips; an extra hflip cancels one of them out.
    expect(rtsp[rtsp.indexOf('-vf') + 1]).toBe('scale=640:480:force_original_aspect_ratio=decrease:force_divisible_by=2,vflip');
    expect(rtsp.slice(-2)).toEqual(['mjpeg', 'pipe:1']);
  });

  it('streams raw full-range yuv420 of exactly the configured size, fitted and padded, when format is yuv420', () => {
    const raw = ffmpegArgs(cameraConfig({ driver: 'ffmpeg', format: 'yuv420', input: '/dev/video2', width: 800, height: 600, vflip: true }));
    expect(raw[raw.indexOf('-vf') + 1]).toBe('scale=800:600:force_original_aspect_ratio=decrease:force_divisible_by=2:out_range=full,pad=800:600:-1:-1,vflip');
    expect(raw.slice(-5)).toEqual(['-pix_fmt', 'yuv420p', '-f', 'rawvideo', 'pipe:1']);
  });

  it('gives the same picture as yuv420 as it does as MJPEG', async () => {
    const still = 'lavfi:color=c=0x3366cc:size=320x240:rate=30';
    const [mjpeg, raw] = [ffmpegCamera({ input: still }), ffmpegCamera({ input: still, format: 'yuv420' })];
    await Promise.all([mjpeg.start(), raw.start()]);
    const [[a], [b]] = await Promise.all([takeFrames(mjpeg, 1), takeFrames(raw, 1)]);
    const [pa, pb] = await Promise.all([frameRgb(a!.image).raw().toBuffer(), frameRgb(b!.image).raw().toBuffer()]);
    expect(b!.image.format).toBe('yuv420');
    // The same colour within JPEG's rounding: a range or matrix mix-up would be off by 10 or more.
    const meanDiff = pa.reduce((sum, v, i) => sum + Math.abs(v - pb[i]!), 0) / pa.length;
    expect(meanDiff).toBeLessThan(3);
    expect([...pb.subarray(0, 3)].map((v, i) => Math.abs(v - [0x33, 0x66, 0xcc][i]!))).toSatisfy((d: number[]) => d.every((x) => x <= 4));
  });

  it('applies rotation: the 180° image is the upright one turned around', async () => {
    const still = 'lavfi:testsrc=size=320x240:rate=30';
    const upright = ffmpegCamera({ input: still });
    const turned = ffmpegCamera({ input: still, rotation: 180 });
    await Promise.all([upright.start(), turned.start()]);
    const [[a], [b]] = await Promise.all([takeFrames(upright, 1), takeFrames(turned, 1)]);
    const pixels = async (jpeg: Buffer, flip: boolean) => {
      let image = sharp(jpeg).resize(16, 12, { fit: 'fill' });
      if (flip) image = image.flip().flop();
      return image.raw().toBuffer();
    };
    // testsrc moves, so compare coarse layouts: turning one image back must match the other closely,
    // much better than not turning it.
    const diff = (x: Buffer, y: Buffer) => x.reduce((sum, v, i) => sum + Math.abs(v - y[i]!), 0) / x.length;
    const [pa, pb, pbBack] = await Promise.all([pixels(jpegOf(a!), false), pixels(jpegOf(b!), false), pixels(jpegOf(b!), true)]);
    expect(diff(pa, pbBack)).toBeLessThan(diff(pa, pb) / 2);
  });

  it('restarts ffmpeg when the network camera is unreachable, with its error in the log and stats', async () => {
    const { logger, lines } = captureLog();
    const camera = ffmpegCamera({ input: `http://127.0.0.1:${await closedPort()}/video.mjpg` }, logger);
    await camera.start();
    await expect.poll(() => camera.stats().restarts, { message: 'two restarts' }).toBeGreaterThanOrEqual(2);
    expect(camera.stats().frames).toBe(0);
    expect(camera.stats().last_error).toMatch(/^exited with status \d+$/);
    const ended = lines.find((line) => typeof line.msg === 'string' && line.msg.startsWith('capture process ended'));
    expect((ended?.stderr as string[]).join('\n')).toMatch(/Connection refused/i);
  });

  it('fails to start with a clear error when ffmpeg is not installed', async () => {
    const empty = await fakePath([]);
    try {
      const failure = ffmpegCamera({}, silentLogger(), empty.env()).start();
      await expect(failure).rejects.toThrow(CameraUnavailableError);
      await expect(failure).rejects.toThrow(/ffmpeg was not found on PATH/);
    } finally {
      await empty.cleanup();
    }
  });
});
