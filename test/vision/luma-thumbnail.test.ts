import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { lumaThumbnail, sampledRowStep } from '../../agent/vision/luma-thumbnail.js';
import type { Yuv420Image } from '../../drivers/camera/index.js';
import { fixture } from '../helpers/fixtures.js';

/**
 * The thumbnail by its definition, pixel by pixel: pixel (x, y) belongs to cell (floor(x*w/W), floor(y*h/H)),
 * and counts when its row is `step` rows on from one its cell counts (from the cell's first row).
 */
function boxMeans(image: Yuv420Image, width: number, height: number, step = 1): number[] {
  const sums = new Array<number>(width * height).fill(0);
  const counts = new Array<number>(width * height).fill(0);
  const firstRowOf = (cellRow: number) => Math.ceil((cellRow * image.height) / height);
  for (let y = 0; y < image.height; y++) {
    const cellRow = Math.floor((y * height) / image.height);
    if ((y - firstRowOf(cellRow)) % step !== 0) continue;
    for (let x = 0; x < image.width; x++) {
      const cell = cellRow * width + Math.floor((x * width) / image.width);
      sums[cell]! += image.data[y * image.width + x]!;
      counts[cell]!++;
    }
  }
  return sums.map((sum, i) => (counts[i] === 0 ? 0 : Math.round(sum / counts[i]!)));
}

/** The motion gate's threshold: a thumbnail pixel changes when its grey level moves by more than this. */
const GATE_PIXEL_DELTA = 25;

/** A grey `width` x `height` scene's Y plane (chroma left out: the thumbnail reads only Y), with person.jpg at `at` scaled to `at.height`. */
async function greyScene(width: number, height: number, at: { left: number; top: number; height: number } | null): Promise<Yuv420Image> {
  let scene = sharp({ create: { width, height, channels: 3, background: { r: 120, g: 120, b: 120 } } });
  if (at) scene = scene.composite([{ input: await sharp(fixture('images/person.jpg')).resize({ height: at.height }).toBuffer(), left: at.left, top: at.top }]);
  const grey = await sharp(await scene.png().toBuffer()).greyscale().raw().toBuffer();
  return { format: 'yuv420', width, height, data: new Uint8Array(grey) };
}

describe('lumaThumbnail', () => {
  it('averages each cell of the Y plane and ignores the chroma planes', () => {
    const y = [10, 20, 100, 100, 30, 40, 100, 100, 0, 0, 255, 255, 0, 4, 255, 255];
    const data = Uint8Array.from([...y, ...new Array<number>(8).fill(77)]);
    expect([...lumaThumbnail({ format: 'yuv420', width: 4, height: 4, data }, 2, 2)]).toEqual([25, 100, 1, 255]);
  });

  it('stays exact over long runs of white (the four-bytes-a-read sums never carry between pixels)', () => {
    const width = 4056;
    const data = new Uint8Array(width * 2 + 2 * (width / 2)).fill(255);
    expect([...lumaThumbnail({ format: 'yuv420', width, height: 2, data }, 1, 1)]).toEqual([255]);
  });

  it('reads every row of a cell up to 7 rows high, then every k-th row so that a cell keeps at least 4', () => {
    expect([4, 7].map((rows) => sampledRowStep(rows * 48, 48))).toEqual([1, 1]);
    expect(sampledRowStep(720, 48)).toBe(3);
    expect(sampledRowStep(1080, 48)).toBe(5);
    expect(Math.ceil(720 / 48 / sampledRowStep(720, 48))).toBeGreaterThanOrEqual(4);
  });

  it('is the mean of the sampled rows of each cell for any frame and thumbnail size, cells of unequal size and empty cells included', () => {
    const sizes = fc.record({ width: fc.integer({ min: 1, max: 300 }), height: fc.integer({ min: 1, max: 40 }), thumbWidth: fc.integer({ min: 1, max: 40 }), thumbHeight: fc.integer({ min: 1, max: 30 }) });
    fc.assert(
      fc.property(sizes, fc.integer(), ({ width, height, thumbWidth, thumbHeight }, seed) => {
        // The Y plane plus chroma, from an offset into a larger buffer (a frame need not start a buffer).
        const bytes = width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
        const buffer = Uint8Array.from({ length: bytes + 3 }, (_, i) => (i * 131 + seed) & 0xff);
        const image: Yuv420Image = { format: 'yuv420', width, height, data: buffer.subarray(3) };
        expect([...lumaThumbnail(image, thumbWidth, thumbHeight)]).toEqual(boxMeans(image, thumbWidth, thumbHeight, sampledRowStep(height, thumbHeight)));
      }),
      { numRuns: 200 },
    );
  });

  it('sees the same motion as whole-cell means: a person stepping aside at 1280x720, a 40 px person appearing at 1920x1080', async () => {
    const cases = [
      { width: 1280, height: 720, before: { left: 40, top: 200, height: 400 }, after: { left: 600, top: 200, height: 400 } },
      { width: 1920, height: 1080, before: null, after: { left: 900, top: 500, height: 40 } },
    ];
    for (const { width, height, before, after } of cases) {
      const [first, second] = await Promise.all([greyScene(width, height, before), greyScene(width, height, after)]);
      const changedCells = (thumb: (image: Yuv420Image) => ArrayLike<number>) => {
        const [a, b] = [thumb(first), thumb(second)];
        return Array.from({ length: a.length }, (_, i) => i).filter((i) => Math.abs(a[i]! - b[i]!) > GATE_PIXEL_DELTA);
      };
      const sampled = changedCells((image) => lumaThumbnail(image, 64, 48));
      const whole = changedCells((image) => boxMeans(image, 64, 48));
      expect(whole.length).toBeGreaterThan(0);
      const both = sampled.filter((cell) => whole.includes(cell)).length;
      // Nearly the same cells: the odd cell on a silhouette's edge may fall either side of the threshold.
      expect(both / new Set([...sampled, ...whole]).size).toBeGreaterThanOrEqual(0.8);
    }
  });
});
