import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lumaThumbnail } from '../../agent/vision/luma-thumbnail.js';
import type { Yuv420Image } from '../../drivers/camera/index.js';

/** The thumbnail by its definition, pixel by pixel: pixel (x, y) belongs to cell (floor(x*w/W), floor(y*h/H)). */
function boxMeans(image: Yuv420Image, width: number, height: number): number[] {
  const sums = new Array<number>(width * height).fill(0);
  const counts = new Array<number>(width * height).fill(0);
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const cell = Math.floor((y * height) / image.height) * width + Math.floor((x * width) / image.width);
      sums[cell]! += image.data[y * image.width + x]!;
      counts[cell]!++;
    }
  }
  return sums.map((sum, i) => (counts[i] === 0 ? 0 : Math.round(sum / counts[i]!)));
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

  it('is the mean of each cell for any frame and thumbnail size, cells of unequal size and empty cells included', () => {
    const sizes = fc.record({ width: fc.integer({ min: 1, max: 300 }), height: fc.integer({ min: 1, max: 40 }), thumbWidth: fc.integer({ min: 1, max: 40 }), thumbHeight: fc.integer({ min: 1, max: 30 }) });
    fc.assert(
      fc.property(sizes, fc.integer(), ({ width, height, thumbWidth, thumbHeight }, seed) => {
        // The Y plane plus chroma, from an offset into a larger buffer (a frame need not start a buffer).
        const bytes = width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
        const buffer = Uint8Array.from({ length: bytes + 3 }, (_, i) => (i * 131 + seed) & 0xff);
        const image: Yuv420Image = { format: 'yuv420', width, height, data: buffer.subarray(3) };
        expect([...lumaThumbnail(image, thumbWidth, thumbHeight)]).toEqual(boxMeans(image, thumbWidth, thumbHeight));
      }),
      { numRuns: 200 },
    );
  });
});
