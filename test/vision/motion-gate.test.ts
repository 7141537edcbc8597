import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { FrameImage } from '../../drivers/camera/index.js';
import { LIGHT_CHANGE_QUIET_FRAMES, MotionGate, changedFraction, compareThumbnails, greyThumbnail, maskBitmap } from '../../agent/vision/motion-gate.js';
import { fixture } from '../helpers/fixtures.js';
import { toYuv420 } from '../drivers/camera/yuv420-fixtures.js';

const jpeg = (data: Buffer): FrameImage => ({ format: 'jpeg', data });

const config = { enabled: true, threshold: 0.02, max_skip_s: 10, masks: [] };

/** A plain grey JPEG with an optional dark square at (x, y): a minimal "something moved" scene. */
async function scene(square?: { x: number; y: number; size: number }, grey = 128): Promise<FrameImage> {
  const base = sharp({ create: { width: 640, height: 480, channels: 3, background: { r: grey, g: grey, b: grey } } });
  if (!square) return jpeg(await base.jpeg().toBuffer());
  const block = await sharp({ create: { width: square.size, height: square.size, channels: 3, background: { r: 10, g: 10, b: 10 } } })
    .png()
    .toBuffer();
  return jpeg(await base.composite([{ input: block, left: square.x, top: square.y }]).jpeg().toBuffer());
}

describe('MotionGate', () => {
  it('lets the first frame through, then only frames that changed', async () => {
    let now = 0;
    const gate = new MotionGate(config, () => now);
    const empty = await scene();
    expect(await gate.check(empty)).toMatchObject({ detect: true, reason: 'first' });
    now = 100;
    expect(await gate.check(empty)).toMatchObject({ detect: false, reason: 'no_motion', changed: 0 });
    now = 200;
    const decision = await gate.check(await scene({ x: 200, y: 150, size: 160 }));
    expect(decision.detect).toBe(true);
    expect(decision.reason).toBe('motion');
    // 160x160 of 640x480 is 8.3% of the picture.
    expect(decision.changed).toBeGreaterThan(0.06);
    expect(decision.changed).toBeLessThan(0.12);
  });

  it('ignores a change below the threshold', async () => {
    let now = 0;
    const gate = new MotionGate({ ...config, threshold: 0.2 }, () => now);
    await gate.check(await scene());
    now = 100;
    expect(await gate.check(await scene({ x: 0, y: 0, size: 100 }))).toMatchObject({ detect: false, reason: 'no_motion' });
  });

  it('forces a check every max_skip_s of a still scene', async () => {
    let now = 0;
    const gate = new MotionGate(config, () => now);
    const still = await scene();
    await gate.check(still);
    now = 9_999;
    expect((await gate.check(still)).detect).toBe(false);
    now = 10_000;
    expect(await gate.check(still)).toMatchObject({ detect: true, reason: 'forced' });
    now = 15_000;
    expect((await gate.check(still)).detect).toBe(false);
  });

  it('passes every frame when disabled, without decoding it', async () => {
    const gate = new MotionGate({ ...config, enabled: false }, () => 0, () => Promise.reject(new Error('must not decode')));
    expect(await gate.check(jpeg(Buffer.from('not a jpeg')))).toEqual({ detect: true, reason: 'disabled', changed: null });
  });

  it('sees the difference between two real photos and none between a photo and itself', async () => {
    let now = 0;
    const gate = new MotionGate(config, () => now);
    const person = jpeg(readFileSync(fixture('images/person.jpg')));
    const coffee = jpeg(readFileSync(fixture('images/coffee.png')));
    await gate.check(person);
    now = 1;
    expect((await gate.check(person)).changed).toBe(0);
    now = 2;
    expect((await gate.check(coffee)).changed).toBeGreaterThan(0.3);
  });

  it('rejects an undecodable frame, and reset() forgets the reference', async () => {
    const gate = new MotionGate(config, () => 0);
    await expect(gate.check(jpeg(Buffer.from('garbage')))).rejects.toThrow();
    await gate.check(await scene());
    gate.reset();
    expect((await gate.check(await scene())).reason).toBe('first');
  });

  it('counts pixels beyond the noise level', async () => {
    expect(changedFraction(Uint8Array.from([0, 0, 0, 0]), Uint8Array.from([0, 25, 26, 255]))).toBe(0.5);
    expect(() => changedFraction(new Uint8Array(2), new Uint8Array(3))).toThrow(/differ in size/);
    expect((await greyThumbnail(await scene())).length).toBe(64 * 48);
  });
});

describe('MotionGate on raw yuv420 frames', () => {
  it('compares the Y plane: the same thumbnail as the JPEG of the same picture, within JPEG noise', async () => {
    const image = fixture('images/person.jpg');
    const raw = await toYuv420(image);
    const [fromRaw, fromJpeg] = await Promise.all([greyThumbnail(raw), greyThumbnail(jpeg(readFileSync(image)))]);
    expect(fromRaw).toHaveLength(64 * 48);
    expect(changedFraction(fromJpeg, fromRaw)).toBeLessThan(0.01);
    const gate = new MotionGate(config, () => 0);
    await gate.check(raw);
    expect((await gate.check(await toYuv420(fixture('images/dog.jpg'), { width: 640, height: 424 }))).reason).toBe('motion');
  });
});

describe('MotionGate masks and light changes', () => {
  it('ignores changes inside a motion mask and sees the same change outside it', async () => {
    let now = 0;
    // The right half of the frame is masked (a tree in the wind).
    const gate = new MotionGate({ ...config, masks: [[[0.5, 0], [1, 0], [1, 1], [0.5, 1]]] }, () => now);
    await gate.check(await scene());
    now = 1;
    expect(await gate.check(await scene({ x: 400, y: 100, size: 150 }))).toMatchObject({ detect: false, reason: 'no_motion', changed: 0 });
    now = 2;
    expect(await gate.check(await scene({ x: 50, y: 100, size: 150 }))).toMatchObject({ detect: true, reason: 'motion' });
  });

  it('compares only the unmasked pixels, and makes the mask bitmap from fractions of the frame', () => {
    const masked = maskBitmap([[[0, 0], [0.5, 0], [0.5, 1], [0, 1]]], 4, 1)!;
    expect([...masked]).toEqual([1, 1, 0, 0]);
    expect(maskBitmap([])).toBeNull();
    // Two of the four pixels changed, but only one of the two unmasked ones.
    expect(compareThumbnails(Uint8Array.from([0, 0, 0, 0]), Uint8Array.from([0, 99, 99, 0]), masked)).toEqual({ changed: 0.5, oneWay: 1 });
    expect(compareThumbnails(Uint8Array.from([9, 9]), Uint8Array.from([99, 0]), Uint8Array.from([1, 1]))).toEqual({ changed: 0, oneWay: 0 });
  });

  it('takes a change of the whole picture one way (a flash, the IR filter) for light: no motion for that frame and the next ones', async () => {
    let now = 0;
    const gate = new MotionGate(config, () => now);
    await gate.check(await scene(undefined, 60));
    now = 1;
    // The IR cut filter switches: the whole picture brightens.
    const bright = await scene(undefined, 200);
    expect(await gate.check(bright)).toMatchObject({ detect: false, reason: 'light_change' });
    // The exposure settles: small changes in the next frames are not motion either.
    for (let i = 0; i < LIGHT_CHANGE_QUIET_FRAMES; i++) {
      now++;
      expect(await gate.check(await scene({ x: 50 + 40 * i, y: 100, size: 150 }, 200))).toMatchObject({ detect: false, reason: 'light_change' });
    }
    // Then someone moving is motion again.
    now++;
    expect(await gate.check(await scene({ x: 400, y: 200, size: 150 }, 200))).toMatchObject({ detect: true, reason: 'motion' });
  });

  it('does not take a change of most of the picture both ways (a scene cut, someone at the lens) for light', async () => {
    let now = 0;
    const gate = new MotionGate(config, () => now);
    await gate.check(jpeg(readFileSync(fixture('images/coffee.png'))));
    now = 1;
    expect(await gate.check(jpeg(readFileSync(fixture('images/person.jpg'))))).toMatchObject({ detect: true, reason: 'motion' });
  });
});
