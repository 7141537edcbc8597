import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../agent/lib/log.js';
import { CameraUnavailableError, createCamera, type Camera, type Frame } from '../../../drivers/camera/index.js';
import { rpicamVidArgs } from '../../../drivers/camera/rpicam.js';
import { fixture } from '../../helpers/fixtures.js';
import { captureLog } from '../../helpers/log-capture.js';
import { describeCameraContract } from './camera-contract.js';
import { cameraConfig, fakePath, fastTiming, jpegOf, processGone, takeFrames, withExifThumbnail, type FakePath } from './helpers.js';
import { yuv420Fixtures, type Yuv420Fixture } from './yuv420-fixtures.js';

const jpegFiles = [fixture('images/bus.jpg'), fixture('images/dog.jpg')];
let fake: FakePath;
const cameras: Camera[] = [];

/** 780 wide: rpicam-vid pads its rows to 832 (Y) and 416 (U/V) bytes, which the splitter must crop. */
const RAW_SIZE = { width: 780, height: 440 };
let rawDir: string;
let rawFrames: Yuv420Fixture[];
beforeAll(async () => {
  rawDir = await mkdtemp(join(tmpdir(), 'edge-agent-rpicam-yuv-'));
  rawFrames = await yuv420Fixtures([...jpegFiles, fixture('images/cat.png')], RAW_SIZE.width, RAW_SIZE.height, rawDir);
});
afterAll(() => rm(rawDir, { recursive: true, force: true }));

// A fresh PATH (and start log) per test: the fakes' behaviour plans count starts from the log.
beforeEach(async () => {
  fake = await fakePath(['rpicam-vid']);
});
afterEach(async () => {
  await Promise.all(cameras.splice(0).map((camera) => camera.stop()));
  await fake.cleanup();
});

function fakeCamera(extraEnv: Record<string, string> = {}, config = cameraConfig(), logger = silentLogger(), path = fake): Camera {
  const camera = createCamera(config, { logger, env: path.env({ FAKE_CAMERA_FRAMES: jpegFiles.join(':'), ...extraEnv }), timing: fastTiming });
  cameras.push(camera);
  return camera;
}

const allFakesGone = () => {
  for (const start of fake.starts()) expect(processGone(start.pid), `fake rpicam-vid pid ${start.pid} still there`).toBe(true);
};

/** A yuv420 camera at RAW_SIZE, streaming the padded fixture frames. */
function rawCamera(extraEnv: Record<string, string> = {}): Camera {
  const config = cameraConfig({ format: 'yuv420', ...RAW_SIZE });
  return fakeCamera({ FAKE_CAMERA_FRAMES: rawFrames.map((f) => f.paddedFile).join(':'), ...extraEnv }, config);
}

describeCameraContract('rpicam (fake rpicam-vid, mjpeg)', () => fakeCamera(), { format: 'jpeg', fps: 20, afterStop: allFakesGone });
describeCameraContract('rpicam (fake rpicam-vid, yuv420 with padded rows)', () => rawCamera(), { format: 'yuv420', fps: 20, size: RAW_SIZE, afterStop: allFakesGone });

if (process.env.HW === '1') {
  // On a Raspberry Pi with a camera: the same promises, kept by the real rpicam-vid and libcamera-still.
  const size = { width: 640, height: 480 };
  describeCameraContract('rpicam (device, mjpeg)', () => createCamera(cameraConfig({ stall_timeout_s: 10 }), { logger: silentLogger() }), { format: 'jpeg', fps: 20, size });
  const raw = cameraConfig({ format: 'yuv420', width: 780, height: 440, stall_timeout_s: 10 });
  describeCameraContract('rpicam (device, yuv420)', () => createCamera(raw, { logger: silentLogger() }), { format: 'yuv420', fps: 20, size: { width: 780, height: 440 } });
  const stills = cameraConfig({ driver: 'still', still_interval_s: 0.5, stall_timeout_s: 10 });
  describeCameraContract('still (device)', () => createCamera(stills, { logger: silentLogger() }), { format: 'jpeg', fps: 2, size });
}

describe('rpicam driver', () => {
  it('runs rpicam-vid without a shell, with the configured options, streaming MJPEG to stdout', async () => {
    const config = cameraConfig({ width: 1280, height: 720, fps: 15, index: 1, rotation: 180, hflip: true, vflip: true });
    const camera = fakeCamera({ FAKE_CAMERA_COUNT: '2' }, config);
    await camera.start();
    await takeFrames(camera, 1);
    const [start] = fake.starts().slice(-1);
    expect(start!.program).toBe('rpicam-vid');
    expect(start!.argv).toEqual(rpicamVidArgs(config));
    expect(start!.argv).toEqual([
      ...['--codec', 'mjpeg', '--timeout', '0', '--nopreview', '--flush', '--output', '-'],
      ...['--width', '1280', '--height', '720', '--framerate', '15'],
      ...['--camera', '1', '--rotation', '180', '--hflip', '--vflip'],
    ]);
  });

  it('delivers every frame bit-exact across random chunk boundaries, EXIF thumbnails included', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'edge-agent-rpicam-'));
    try {
      const thumbnail = await sharp(readFileSync(jpegFiles[0]!)).resize(160, 120).jpeg().toBuffer();
      const withThumb = join(tmp, 'exif.jpg');
      await writeFile(withThumb, withExifThumbnail(readFileSync(jpegFiles[1]!), thumbnail));
      const files = [...jpegFiles, withThumb];
      const expected = files.map((file) => readFileSync(file));
      for (const [chunkMax, seed] of [[1500, 1], [65536, 2]] as const) {
        const camera = fakeCamera({ FAKE_CAMERA_FRAMES: files.join(':'), FAKE_CAMERA_CHUNK_MAX: String(chunkMax), FAKE_CAMERA_SEED: String(seed) });
        await camera.start();
        const frames = await takeFrames(camera, 7);
        // The fake sends the files in turn; seq numbers every frame produced, dropped ones included.
        for (const frame of frames) expect(jpegOf(frame).equals(expected[(frame.seq - 1) % files.length]!)).toBe(true);
        await camera.stop();
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('streams yuv420 by default: every frame cropped from its padded rows bit-exact, across random chunk boundaries', async () => {
    const defaults = cameraConfig({ format: 'yuv420', ...RAW_SIZE });
    expect(rpicamVidArgs(defaults).slice(0, 2)).toEqual(['--codec', 'yuv420']);
    for (const [chunkMax, seed] of [[1500, 1], [400_000, 2]] as const) {
      const camera = rawCamera({ FAKE_CAMERA_CHUNK_MAX: String(chunkMax), FAKE_CAMERA_SEED: String(seed) });
      await camera.start();
      const frames = await takeFrames(camera, 7);
      for (const frame of frames) {
        const expected = rawFrames[(frame.seq - 1) % rawFrames.length]!.image;
        expect(frame.image).toMatchObject({ format: 'yuv420', width: RAW_SIZE.width, height: RAW_SIZE.height });
        expect(Buffer.from(frame.image.data).equals(Buffer.from(expected.data)), `frame ${frame.seq}`).toBe(true);
      }
      await camera.stop();
    }
  });

  // Reuse is what keeps a static scene cheap (docs/camera.md, Frame memory); it must never touch a frame
  // the consumer still holds.
  it('refills the memory of released yuv420 frames, and never of a frame still held', async () => {
    const camera = rawCamera({ FAKE_CAMERA_CHUNK_MAX: '65536' });
    await camera.start();
    const expected = (frame: Frame) => Buffer.from(rawFrames[(frame.seq - 1) % rawFrames.length]!.image.data);
    const [held] = await takeFrames(camera, 1);
    const released = new Set<Uint8Array>();
    let reused = 0;
    for (let i = 0; i < 12; i++) {
      const [frame] = await takeFrames(camera, 1);
      expect(Buffer.from(frame!.image.data).equals(expected(frame!)), `frame ${frame!.seq}`).toBe(true);
      if (released.has(frame!.image.data)) reused++;
      released.add(frame!.image.data);
      frame!.release();
    }
    expect(reused).toBeGreaterThan(0);
    expect(Buffer.from(held!.image.data).equals(expected(held!))).toBe(true);
    await camera.stop();
  });

  it('drops the torn yuv420 frame of a crashed rpicam-vid and keeps the next stream aligned', async () => {
    const camera = rawCamera({ FAKE_CAMERA_PLAN: 'crash:2,stream' });
    await camera.start();
    const frames = await takeFrames(camera, 4);
    const expected = rawFrames.map((f) => Buffer.from(f.image.data));
    expect(frames.every((frame) => expected.some((data) => data.equals(Buffer.from(frame.image.data))))).toBe(true);
    expect(camera.stats().restarts).toBe(1);
  });

  it('refuses an odd width or height with yuv420 (4:2:0 chroma covers 2x2 pixels)', () => {
    expect(() => createCamera(cameraConfig({ format: 'yuv420', width: 781 }), { logger: silentLogger() })).toThrow(
      /camera.width must be even with camera.format yuv420 .*got 781/,
    );
  });

  it('falls back to libcamera-vid on systems that only have the old name', async () => {
    const legacy = await fakePath(['libcamera-vid']);
    try {
      const camera = fakeCamera({}, cameraConfig(), silentLogger(), legacy);
      await camera.start();
      await takeFrames(camera, 2);
      expect(legacy.starts().map((s) => s.program)).toEqual(['libcamera-vid']);
    } finally {
      await legacy.cleanup();
    }
  });

  it('fails to start with a clear error when neither rpicam-vid nor libcamera-vid is installed', async () => {
    const empty = await fakePath([]);
    try {
      const camera = fakeCamera({}, cameraConfig(), silentLogger(), empty);
      const failure = camera.start();
      await expect(failure).rejects.toBeInstanceOf(CameraUnavailableError);
      await expect(failure).rejects.toThrow(/neither rpicam-vid nor libcamera-vid was found on PATH/);
    } finally {
      await empty.cleanup();
    }
  });

  it('restarts a crashed rpicam-vid, logs what it said on stderr, and drops the torn frame', async () => {
    const { logger, lines } = captureLog();
    const camera = fakeCamera({ FAKE_CAMERA_PLAN: 'crash:2,stream' }, cameraConfig(), logger);
    await camera.start();
    const frames = await takeFrames(camera, 5);
    const expected = jpegFiles.map((file) => readFileSync(file));
    // The half frame sent before the crash is never delivered; the new process starts from the first file.
    expect(frames.every((frame) => expected.some((jpeg) => jpeg.equals(jpegOf(frame))))).toBe(true);
    const stats = camera.stats();
    expect(stats.restarts).toBe(1);
    expect(stats.last_error).toBe('exited with status 1');
    const ended = lines.find((line) => line.msg === 'capture process ended: exited with status 1');
    expect(ended?.level).toBe(40);
    expect(ended?.stderr).toContain('ERROR: *** failed to dequeue buffer: camera frontend has timed out ***');
    expect(ended?.restart_in_ms).toBe(fastTiming.backoff.baseMs);
    const [first, second] = fake.starts();
    expect(processGone(first!.pid)).toBe(true);
    expect(second!.behaviour).toBe('stream');
  });

  it.each([
    ['stops sending frames (watchdog, SIGTERM)', 'stall:1'],
    ['stops sending frames and ignores SIGTERM (SIGKILL)', 'stall-hard:1'],
  ])('kills and restarts an rpicam-vid that %s', async (_, behaviour) => {
    const camera = fakeCamera({ FAKE_CAMERA_PLAN: `${behaviour},stream` }, cameraConfig({ stall_timeout_s: 1 }));
    await camera.start();
    await takeFrames(camera, 3);
    // At least one restart (a loaded test machine can be slow enough to make the new process late too).
    expect(camera.stats().restarts).toBeGreaterThanOrEqual(1);
    expect(camera.stats().last_error).toBe('no frame for 1 s');
    const [stalled] = fake.starts();
    expect(stalled!.behaviour).toBe(behaviour);
    expect(processGone(stalled!.pid)).toBe(true);
  });

  it('backs off exponentially while the camera keeps failing, and stops retrying on stop()', async () => {
    const failing = await fakePath(['rpicam-vid']);
    try {
      const camera = fakeCamera({ FAKE_CAMERA_PLAN: 'fail' }, cameraConfig(), silentLogger(), failing);
      await camera.start();
      await expect.poll(() => failing.starts().length, { message: 'six failed starts' }).toBeGreaterThanOrEqual(6);
      await camera.stop();
      const starts = failing.starts();
      const gaps = starts.slice(1).map((start, i) => start.t - starts[i]!.t);
      // Each wait is at least the backoff delay: 50, 100, 200, then capped at 400 ms.
      gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(Math.min(400, 50 * 2 ** i) - 5));
      expect(camera.stats().last_error).toBe('exited with status 255');
      expect(camera.stats().restarts).toBe(starts.length - 1);
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(failing.starts()).toHaveLength(starts.length);
      for (const start of starts) expect(processGone(start.pid)).toBe(true);
    } finally {
      await failing.cleanup();
    }
  });
});
