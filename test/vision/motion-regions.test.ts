import { describe, expect, it } from 'vitest';
import { changedClusters, motionRegions, squareAround, type ChangedCells } from '../../agent/vision/motion-regions.js';

/** A 64x48 changed-cell map with the given inclusive cell rectangles set. */
function cellsWith(...rects: [number, number, number, number][]): ChangedCells {
  const cells = new Uint8Array(64 * 48);
  for (const [x0, y0, x1, y1] of rects) {
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) cells[y * 64 + x] = 1;
  }
  return { cells, width: 64, height: 48 };
}

describe('motion regions', () => {
  it('clusters 8-connected changed cells into boxes', () => {
    expect(changedClusters(cellsWith([2, 3, 4, 5], [5, 6, 5, 6], [40, 40, 41, 41]))).toEqual([
      { x0: 2, y0: 3, x1: 5, y1: 6 },
      { x0: 40, y0: 40, x1: 41, y1: 41 },
    ]);
  });

  it('grows a small box into a square of the model size, moved inside the frame', () => {
    expect(squareAround(10, 10, 50, 90, 640, 1920, 1080)).toEqual({ x: 0, y: 0, width: 640, height: 640 });
    expect(squareAround(1900, 1000, 1910, 1070, 640, 1920, 1080)).toEqual({ x: 1280, y: 440, width: 640, height: 640 });
    expect(squareAround(900, 500, 1000, 600, 320, 1920, 1080)).toEqual({ x: 790, y: 390, width: 320, height: 320 });
  });

  it('a box larger than the model size keeps its size; one larger than the frame is cut to it', () => {
    expect(squareAround(100, 100, 900, 300, 640, 1920, 1080)).toEqual({ x: 100, y: 0, width: 800, height: 800 });
    expect(squareAround(0, 0, 1900, 100, 640, 1920, 1080)).toEqual({ x: 0, y: 0, width: 1900, height: 1080 });
  });

  it('a small change in a large frame gives one region of the model size around it', () => {
    // Cells 30..31 x 20..23 of 64x48 in 1920x1080 (a cell is 30 x 22.5 px), padded by a cell: x 870..990, y 427.5..562.5.
    const regions = motionRegions(cellsWith([30, 20, 31, 23]), 1920, 1080, { minSide: 640 });
    expect(regions).toEqual([{ x: 610, y: 174, width: 640, height: 640 }]);
  });

  it('regions far apart stay apart; overlapping squares merge into one square around both', () => {
    const apart = motionRegions(cellsWith([2, 2, 3, 3], [60, 44, 61, 45]), 1920, 1080, { minSide: 320 });
    expect(apart).toHaveLength(2);
    const merged = motionRegions(cellsWith([20, 20, 21, 21], [26, 20, 27, 21]), 1920, 1080, { minSide: 320 });
    expect(merged).toHaveLength(1);
    const [region] = merged!;
    expect(region!.width).toBe(region!.height);
    expect(region!.x).toBeLessThanOrEqual(19 * 30);
    expect(region!.x + region!.width).toBeGreaterThanOrEqual(29 * 30);
  });

  it('every region lies inside the frame with even coordinates', () => {
    const regions = motionRegions(cellsWith([0, 0, 1, 1], [63, 47, 63, 47], [30, 0, 30, 0]), 1281, 721, { minSide: 320 })!;
    for (const r of regions) {
      expect(r.x % 2 + r.y % 2 + r.width % 2 + r.height % 2).toBe(0);
      expect(r.x).toBeGreaterThanOrEqual(0);
      expect(r.y).toBeGreaterThanOrEqual(0);
      expect(r.x + r.width).toBeLessThanOrEqual(1281);
      expect(r.y + r.height).toBeLessThanOrEqual(721);
    }
  });

  it('no change, or regions covering most of the frame: the full frame (null)', () => {
    expect(motionRegions(cellsWith(), 1920, 1080, { minSide: 640 })).toBeNull();
    expect(motionRegions(cellsWith([0, 0, 63, 47]), 1920, 1080, { minSide: 640 })).toBeNull();
    // A 640 square in a 1280x720 frame is 44% of it; two apart are 89%: run the full frame.
    expect(motionRegions(cellsWith([2, 20, 3, 21], [60, 20, 61, 21]), 1280, 720, { minSide: 640 })).toBeNull();
  });
});
