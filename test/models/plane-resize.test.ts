import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shrinkPlane } from '../../models/plane-resize.js';

/** Area averaging by its definition: each output pixel's rectangle in source pixels, every source pixel weighted by its overlap. */
function areaMeans(plane: Uint8Array, width: number, height: number, outWidth: number, outHeight: number): number[] {
  const sx = width / outWidth;
  const sy = height / outHeight;
  const overlap = (a0: number, a1: number, b0: number, b1: number) => Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
  const out: number[] = [];
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      let sum = 0;
      for (let j = Math.floor(y * sy); j < Math.min(height, Math.ceil((y + 1) * sy)); j++) {
        for (let i = Math.floor(x * sx); i < Math.min(width, Math.ceil((x + 1) * sx)); i++) {
          sum += plane[j * width + i]! * overlap(i, i + 1, x * sx, (x + 1) * sx) * overlap(j, j + 1, y * sy, (y + 1) * sy);
        }
      }
      out.push(sum / (sx * sy));
    }
  }
  return out;
}

const seeded = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => (i * 131 + seed * 17 + (i >> 5)) & 0xff);

describe('shrinkPlane', () => {
  it('is the mean of each 2x2 block at half size, rounded', () => {
    const plane = Uint8Array.from([10, 20, 100, 101, 30, 41, 100, 100, 0, 0, 255, 255, 0, 3, 255, 255]);
    expect([...shrinkPlane(plane, 4, 4, 2, 2)]).toEqual([25, 100, 1, 255]);
  });

  it('is the area average (within rounding) for any shrink, whole-number factors and fractional ones alike', () => {
    const sizes = fc
      .record({ outWidth: fc.integer({ min: 1, max: 24 }), outHeight: fc.integer({ min: 1, max: 16 }), factor: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.double({ min: 1, max: 4, noNaN: true })) })
      .map(({ outWidth, outHeight, factor }) => ({ outWidth, outHeight, width: Math.max(outWidth, Math.round(outWidth * factor)), height: Math.max(outHeight, Math.round(outHeight * factor)) }));
    fc.assert(
      fc.property(sizes, fc.integer(), ({ width, height, outWidth, outHeight }, seed) => {
        const plane = seeded(width * height, seed);
        const expected = areaMeans(plane, width, height, outWidth, outHeight);
        const actual = shrinkPlane(plane, width, height, outWidth, outHeight);
        actual.forEach((value, i) => expect(Math.abs(value - expected[i]!)).toBeLessThanOrEqual(0.5 + 1e-3));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses to grow a plane and a plane shorter than its size', () => {
    expect(() => shrinkPlane(new Uint8Array(4), 2, 2, 3, 3)).toThrow(/shrinks: 2 px cannot become 3/);
    expect(() => shrinkPlane(new Uint8Array(3), 2, 2, 1, 1)).toThrow(/2x2 plane needs 4 bytes, got 3/);
  });
});
