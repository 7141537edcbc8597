import { describe, expect, it } from 'vitest';
import type { RawRgbImage } from '../../../models/types.js';
import { defaultConfig } from '../../../agent/config/load.js';
import { MotionGate } from '../../../agent/vision/motion-gate.js';
import { brighten, crop, encodeJpeg, paste } from '../../../scripts/eval/vision/frames.js';
import { drift, fitInto, flash, glide, panZoom, path, render, still, walk } from '../../../scripts/eval/vision/scenes.js';
import { hangIn, intruderPlans, lookAlikePlan } from '../../../scripts/eval/vision/sequences.js';

/** A flat image of one colour. */
function flat(width: number, height: number, rgb: [number, number, number]): RawRgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) data.set(rgb, p * 3);
  return { data, width, height };
}

/** Mean grey level (0..255): what a flash or a drift changes. */
const meanLevel = (image: RawRgbImage) => image.data.reduce((sum, v) => sum + v, 0) / image.data.length;

const pixel = (image: RawRgbImage, x: number, y: number) => Array.from(image.data.subarray((y * image.width + x) * 3, (y * image.width + x) * 3 + 3));

/** Bounding box of the pixels that are `rgb`. */
function whereIs(image: RawRgbImage, rgb: number[]): { left: number; top: number; right: number; bottom: number } | null {
  let box: { left: number; top: number; right: number; bottom: number } | null = null;
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      if (pixel(image, x, y).join() !== rgb.join()) continue;
      box = box ? { left: Math.min(box.left, x), top: Math.min(box.top, y), right: Math.max(box.right, x), bottom: Math.max(box.bottom, y) } : { left: x, top: y, right: x, bottom: y };
    }
  }
  return box;
}

const grey = flat(64, 48, [100, 100, 100]);
const red = flat(8, 12, [250, 0, 0]);
const size = { width: 64, height: 48 };
const noNoise = { sigma: 0, seed: 1 };

describe('paste', () => {
  it('puts the patch with its top left corner where it is told, leaving the rest', () => {
    const out = paste(grey, red, 10, 20);
    expect(whereIs(out, [250, 0, 0])).toEqual({ left: 10, top: 20, right: 17, bottom: 31 });
    expect(pixel(out, 9, 20)).toEqual([100, 100, 100]);
    expect(grey.data.every((v) => v === 100)).toBe(true);
  });

  it('cuts off what falls outside the frame', () => {
    expect(whereIs(paste(grey, red, -3, 40), [250, 0, 0])).toEqual({ left: 0, top: 40, right: 4, bottom: 47 });
    expect(whereIs(paste(grey, red, 64, 0), [250, 0, 0])).toBeNull();
  });
});

describe('crop and brighten', () => {
  it('crop takes the region asked for', () => {
    const out = crop(paste(grey, red, 10, 20), { left: 8, top: 18, width: 6, height: 4 });
    expect([out.width, out.height]).toEqual([6, 4]);
    expect(pixel(out, 1, 1)).toEqual([100, 100, 100]);
    expect(pixel(out, 2, 2)).toEqual([250, 0, 0]);
  });

  it('brighten multiplies and clips at white', () => {
    expect(pixel(brighten(grey, 3), 0, 0)).toEqual([255, 255, 255]);
    expect(pixel(brighten(grey, 0.5), 0, 0)).toEqual([50, 50, 50]);
  });
});

describe('sequence plans', () => {
  it('a walk places the person at each position of its path, frame by frame', async () => {
    const positions = path(0, 40, 30, 5);
    expect(positions.map((p) => p.left)).toEqual([0, 10, 20, 30, 40]);
    const frames = await render([...still(grey, 2), ...walk(grey, red, positions)], size, noNoise);
    expect(frames).toHaveLength(7);
    expect(whereIs(frames[0]!, [250, 0, 0])).toBeNull();
    expect(whereIs(frames[1]!, [250, 0, 0])).toBeNull();
    for (const [i, p] of positions.entries()) {
      expect(whereIs(frames[i + 2]!, [250, 0, 0])).toEqual({ left: p.left, top: 30, right: p.left + 7, bottom: 41 });
    }
  });

  it('a flash brightens exactly the frame it says', async () => {
    const frames = await render(flash(grey, 6, 3, 2), size, { sigma: 4, seed: 7 });
    const levels = frames.map(meanLevel);
    expect(levels[3]).toBeGreaterThan(190);
    for (const i of [0, 1, 2, 4, 5]) expect(Math.abs(levels[i]! - 100)).toBeLessThan(1);
  });

  it('a drift changes the light a little every frame, from the first level to the last', async () => {
    const levels = (await render(drift(grey, 1, 0.5, 6), size, noNoise)).map(meanLevel);
    expect(levels[0]).toBe(100);
    expect(levels.at(-1)).toBe(50);
    for (let i = 1; i < levels.length; i++) expect(levels[i]! - levels[i - 1]!).toBeCloseTo(-10, 0);
  });

  it('a pan and zoom moves the view from the first region to the last in equal steps', () => {
    const regions = glide({ left: 0, top: 0, width: 64, height: 48 }, { left: 16, top: 12, width: 32, height: 24 }, 5);
    expect(regions[0]).toEqual({ left: 0, top: 0, width: 64, height: 48 });
    expect(regions[2]).toEqual({ left: 8, top: 6, width: 48, height: 36 });
    expect(regions[4]).toEqual({ left: 16, top: 12, width: 32, height: 24 });
  });

  it('a zoom renders the region in view at the frame size', async () => {
    const scene = paste(grey, red, 16, 12);
    // Zoomed onto the red patch's top left quarter: red fills the frame's lower right part.
    const [frame] = await render(panZoom(scene, { left: 12, top: 8, width: 8, height: 6 }, { left: 12, top: 8, width: 8, height: 6 }, 1), size, noNoise);
    expect(pixel(frame!, 60, 44)[0]).toBeGreaterThan(240);
    expect(pixel(frame!, 4, 4)).toEqual([100, 100, 100]);
  });

  it('noise is the same on every run with the same seed, and different with another', async () => {
    const [a] = await render(still(grey, 1), size, { sigma: 6, seed: 3 });
    const [b] = await render(still(grey, 1), size, { sigma: 6, seed: 3 });
    const [c] = await render(still(grey, 1), size, { sigma: 6, seed: 4 });
    expect(a!.data).toEqual(b!.data);
    expect(a!.data).not.toEqual(c!.data);
  });
});

describe('intruder sequences', () => {
  const photos = { empty: flat(120, 80, [100, 100, 100]), person: red, people: flat(150, 100, [0, 0, 200]), dog: flat(160, 120, [0, 200, 0]) };
  const plans = intruderPlans(photos, { frames: 10, lead: 3, hung: 12, standing: 20 });

  it('show nothing before the first intruder frame they name, and the intruder from it on', async () => {
    for (const plan of plans) {
      expect(plan.firstSubjectFrame).toBe(3);
      const frames = await render(plan.shots, plan.size, noNoise);
      for (const frame of frames.slice(0, 3)) expect(pixel(frame, 60, 40)).toEqual([100, 100, 100]);
      // The person (red) walked in, or the view cut to a photo (blue, green): either way the empty grey scene is no longer all there is.
      const fourth = frames[3]!;
      expect(whereIs(fourth, [250, 0, 0]) !== null || pixel(fourth, 60, 40).join() !== '100,100,100', plan.name).toBe(true);
    }
  });

  it('the standing intruder stops where the walk ends and stays there for the frames asked', () => {
    const standing = plans.find((p) => p.kind === 'standing intruder')!;
    const positions = standing.shots.slice(3).map((s) => `${s.patch!.left},${s.patch!.top}`);
    expect(positions).toHaveLength(6 + 20);
    expect(new Set(positions.slice(0, 6)).size).toBe(6);
    expect(new Set(positions.slice(5))).toEqual(new Set([positions[5]]));
  });
});

describe('look-alike sequences', () => {
  const empty = flat(240, 160, [100, 100, 100]);
  // A picture taller than wide (a crop turned 90 degrees), striped so that moving it changes what it covers.
  const picture = flat(60, 90, [230, 230, 230]);
  for (let y = 0; y < picture.height; y += 10) picture.data.fill(20, y * picture.width * 3, (y + 5) * picture.width * 3);
  const lengths = { frames: 10, lead: 3, hung: 12, standing: 20 };
  /** The picture's plan, and where it hangs. */
  async function carriedIn() {
    const placement = await hangIn(empty)(picture);
    const lookAlike = { source: 'x.png', region: { left: 0, top: 0, width: 60, height: 90 }, rotation: 90 as const, label: 'dog', placement, scores: [] };
    return { placement, plan: lookAlikePlan(lookAlike, empty, lengths) };
  }

  it('fitInto scales a picture to fit its box, aspect ratio kept, centred', async () => {
    const placed = await fitInto(picture, { left: 100, top: 10, width: 120, height: 120 });
    expect([placed.image.width, placed.image.height, placed.left, placed.top]).toEqual([80, 120, 120, 10]);
  });

  it('a look-alike is carried in from the right edge to its place, then hangs still, over less than half the frame', async () => {
    const { placement, plan } = await carriedIn();
    expect((placement.image.width * placement.image.height) / (empty.width * empty.height)).toBeLessThan(0.4);
    expect(plan.firstSubjectFrame).toBe(3);
    expect(plan.shots.slice(0, 3).every((s) => s.patch === undefined)).toBe(true);
    const lefts = plan.shots.slice(3).map((s) => s.patch!.left);
    const carried = lefts.slice(0, lefts.indexOf(placement.left) + 1);
    expect(carried.length).toBeGreaterThan(1);
    expect(carried[0]).toBeLessThan(empty.width);
    for (let i = 1; i < carried.length; i++) expect(carried[i]).toBeLessThan(carried[i - 1]!);
    expect(lefts.slice(carried.length)).toEqual(Array.from({ length: lengths.hung }, () => placement.left));
  });

  it('the motion gate takes its arrival for motion, not for a light change, and its hanging still for no motion', async () => {
    const { plan } = await carriedIn();
    let now = 0;
    const gate = new MotionGate(defaultConfig().motion, () => now);
    const reasons: string[] = [];
    for (const frame of await render(plan.shots, plan.size, { sigma: 6, seed: 1 })) {
      now += 500;
      reasons.push((await gate.check({ format: 'jpeg', data: await encodeJpeg(frame) })).reason);
    }
    const carriedFrames = plan.shots.length - lengths.lead - lengths.hung;
    expect(reasons.slice(lengths.lead, lengths.lead + carriedFrames)).toEqual(Array.from({ length: carriedFrames }, () => 'motion'));
    expect(new Set(reasons.slice(lengths.lead + carriedFrames + 1))).toEqual(new Set(['no_motion']));
  });
});
