/**
 * The behaviour every `Camera` promises, as one suite each driver runs with its own factory (against
 * fakes here, against the real device with HW=1 on a Pi).
 */
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { yuv420Layout } from '../../../agent/lib/frame-image.js';
import { isCompleteJpeg } from '../../../drivers/camera/jpeg-splitter.js';
import type { Camera, FrameImage } from '../../../drivers/camera/types.js';
import { sleep, takeFrames } from './helpers.js';

export interface CameraContractOptions {
  /** The format every frame must come in. */
  format: FrameImage['format'];
  /** Frames a second the camera is set up for (still mode: 1 / interval): the rate must not exceed it. */
  fps: number;
  /** When set, every frame must be (or decode to) this size. */
  size?: { width: number; height: number };
  /** Runs after stop(): for example, check that no capture process is left. */
  afterStop?: () => void | Promise<void>;
}

/** A whole frame of the promised format (a JPEG SOI to EOI that decodes; yuv420 of exactly its size's bytes), of the promised size. */
async function expectWholeFrame(image: FrameImage, options: CameraContractOptions): Promise<void> {
  expect(image.format).toBe(options.format);
  let size: { width: number; height: number };
  if (image.format === 'jpeg') {
    expect(isCompleteJpeg(image.data)).toBe(true);
    const meta = await sharp(image.data).metadata();
    expect(meta.format).toBe('jpeg');
    size = { width: meta.width, height: meta.height };
  } else {
    size = { width: image.width, height: image.height };
    expect(image.data.length).toBe(yuv420Layout(image.width, image.height).frameBytes);
  }
  if (options.size) expect(size).toEqual(options.size);
}

export function describeCameraContract(name: string, factory: () => Camera | Promise<Camera>, options: CameraContractOptions): void {
  const frameMs = 1000 / options.fps;

  describe(`Camera contract: ${name}`, () => {
    const cameras: Camera[] = [];
    const make = async () => {
      const camera = await factory();
      cameras.push(camera);
      return camera;
    };
    afterEach(async () => {
      await Promise.all(cameras.splice(0).map((camera) => camera.stop()));
    });

    it(`delivers complete ${options.format} frames in order, stamped with the capture time`, async () => {
      const camera = await make();
      const before = Date.now();
      await camera.start();
      const frames = await takeFrames(camera, 3);
      const after = Date.now();
      // The configured rate is a ceiling on average (a source late to start may burst to catch up).
      expect(camera.stats().frames).toBeLessThanOrEqual(Math.ceil((options.fps * 1.5 * (after - before)) / 1000) + 2);
      for (const [i, frame] of frames.entries()) {
        await expectWholeFrame(frame.image, options);
        expect(frame.ts).toBeGreaterThanOrEqual(before);
        expect(frame.ts).toBeLessThanOrEqual(after);
        if (i > 0) {
          expect(frame.seq).toBeGreaterThan(frames[i - 1]!.seq);
          expect(frame.ts).toBeGreaterThanOrEqual(frames[i - 1]!.ts);
        }
      }
      const stats = camera.stats();
      expect(stats.frames).toBeGreaterThanOrEqual(3);
      expect(stats.last_frame_age_ms).not.toBeNull();
      expect(stats.last_frame_age_ms!).toBeGreaterThanOrEqual(0);
      expect(stats.fps).toBeGreaterThan(0);
    });

    it('gives a slow reader the newest frame and counts the ones it replaced as dropped', async () => {
      const camera = await make();
      await camera.start();
      const [first] = await takeFrames(camera, 1);
      // Be slow: read again only after two more frames came.
      await expect.poll(() => camera.stats().frames, { message: 'two more frames' }).toBeGreaterThanOrEqual(first!.seq + 2);
      const [later] = await takeFrames(camera, 1);
      // It gets the newest frame, not the next in line.
      expect(later!.seq).toBeGreaterThanOrEqual(first!.seq + 2);
      await camera.stop();
      const stats = camera.stats();
      expect(stats.dropped).toBeGreaterThanOrEqual(later!.seq - first!.seq - 1);
      // Every frame produced was read, dropped, or the one still waiting when stop() discarded it.
      expect(stats.frames - 2 - stats.dropped).toBeGreaterThanOrEqual(0);
      expect(stats.frames - 2 - stats.dropped).toBeLessThanOrEqual(1);
    });

    it('ends iteration on stop(), also for a reader already waiting, and stops producing', async () => {
      const camera = await make();
      await camera.start();
      const iterator = camera[Symbol.asyncIterator]();
      await iterator.next();
      const waiting = iterator.next();
      await camera.stop();
      const result = await waiting;
      // Either the frame that was already on its way, or the end; after that, only the end.
      if (!result.done) await expectWholeFrame(result.value.image, options);
      expect((await iterator.next()).done).toBe(true);
      const produced = camera.stats().frames;
      await sleep(frameMs * 3);
      expect(camera.stats().frames).toBe(produced);
      await options.afterStop?.();
    });

    it('stops idempotently and cannot be started again', async () => {
      const camera = await make();
      await camera.start();
      await takeFrames(camera, 1);
      await Promise.all([camera.stop(), camera.stop()]);
      await camera.stop();
      await expect(camera.start()).rejects.toThrow(/stopped/);
      await options.afterStop?.();
    });

    it('can be stopped before it was ever started', async () => {
      const camera = await make();
      await camera.stop();
      await expect(camera.start()).rejects.toThrow(/stopped/);
      const iterator = camera[Symbol.asyncIterator]();
      expect((await iterator.next()).done).toBe(true);
    });
  });
}
