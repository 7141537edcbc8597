import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { iou, nonMaxSuppression } from '../../models/nms.js';

/** Flat typed arrays from a readable list of [x1, y1, x2, y2, score, class]. */
function detections(rows: [number, number, number, number, number, number][]) {
  return {
    boxes: Float32Array.from(rows.flatMap(([x1, y1, x2, y2]) => [x1, y1, x2, y2])),
    scores: Float32Array.from(rows.map((r) => r[4])),
    classes: Int32Array.from(rows.map((r) => r[5])),
  };
}

describe('iou', () => {
  it('is 1 for identical boxes, 0 for disjoint or touching ones, and the ratio in between', () => {
    const boxes = Float32Array.from([0, 0, 10, 10, 0, 0, 10, 10, 10, 0, 20, 10, 5, 0, 15, 10, 0, 0, 0, 0]);
    expect(iou(boxes, 0, 1)).toBe(1);
    expect(iou(boxes, 0, 2)).toBe(0);
    expect(iou(boxes, 0, 3)).toBeCloseTo(50 / 150, 12);
    expect(iou(boxes, 4, 4)).toBe(0);
  });
});

describe('nonMaxSuppression', () => {
  it('drops a lower-scored box of the same class that overlaps more than the threshold', () => {
    const d = detections([
      [0, 0, 10, 10, 0.6, 0],
      [1, 0, 11, 10, 0.9, 0], // IoU with the first: 90/110 = 0.82
      [50, 50, 60, 60, 0.7, 0],
    ]);
    expect(nonMaxSuppression(d.boxes, d.scores, d.classes, 0.7)).toEqual([1, 2]);
  });

  it('never lets boxes of different classes suppress each other', () => {
    const d = detections([
      [0, 0, 10, 10, 0.9, 0],
      [0, 0, 10, 10, 0.8, 16],
    ]);
    expect(nonMaxSuppression(d.boxes, d.scores, d.classes, 0.5)).toEqual([0, 1]);
  });

  it('keeps a box whose IoU equals the threshold (only "above" suppresses)', () => {
    const d = detections([
      [0, 0, 10, 10, 0.9, 0],
      [5, 0, 15, 10, 0.8, 0], // IoU exactly 1/3
    ]);
    expect(nonMaxSuppression(d.boxes, d.scores, d.classes, 1 / 3)).toEqual([0, 1]);
    expect(nonMaxSuppression(d.boxes, d.scores, d.classes, 0.33)).toEqual([0]);
  });

  it('lets a suppressed box not suppress others (greedy on kept boxes only)', () => {
    // B overlaps A and C heavily, A and C overlap little: A suppresses B, so C survives.
    const d = detections([
      [0, 0, 10, 10, 0.9, 0],
      [3, 0, 13, 10, 0.8, 0],
      [6, 0, 16, 10, 0.7, 0],
    ]);
    expect(nonMaxSuppression(d.boxes, d.scores, d.classes, 0.5)).toEqual([0, 2]);
  });

  it('returns at most maxDetections, the best ones', () => {
    const d = detections([
      [0, 0, 1, 1, 0.5, 0],
      [2, 2, 3, 3, 0.9, 0],
      [4, 4, 5, 5, 0.7, 0],
    ]);
    expect(nonMaxSuppression(d.boxes, d.scores, d.classes, 0.7, 2)).toEqual([1, 2]);
  });

  it('handles no boxes and refuses arrays of different lengths', () => {
    expect(nonMaxSuppression(new Float32Array(0), new Float32Array(0), new Int32Array(0), 0.7)).toEqual([]);
    expect(() => nonMaxSuppression(new Float32Array(8), new Float32Array(1), new Int32Array(1), 0.7)).toThrow(/do not match/);
  });

  it('keeps only same-class boxes that overlap at most the threshold, and explains every drop', () => {
    const box = fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }));
    const row = fc.tuple(box, fc.double({ min: 0.01, max: 1, noNaN: true }), fc.integer({ min: 0, max: 2 }));
    fc.assert(
      fc.property(fc.array(row, { maxLength: 40 }), fc.double({ min: 0.1, max: 0.9, noNaN: true }), (rows, threshold) => {
        const d = detections(rows.map(([[x, y, w, h], score, cls]) => [x, y, x + w, y + h, score, cls]));
        const kept = nonMaxSuppression(d.boxes, d.scores, d.classes, threshold);
        for (let a = 0; a < kept.length; a += 1) {
          for (let b = a + 1; b < kept.length; b += 1) {
            const [i, j] = [kept[a]!, kept[b]!];
            expect(d.scores[i]!).toBeGreaterThanOrEqual(d.scores[j]!);
            if (d.classes[i] === d.classes[j]) expect(iou(d.boxes, i, j)).toBeLessThanOrEqual(threshold);
          }
        }
        const keptSet = new Set(kept);
        for (let j = 0; j < rows.length; j += 1) {
          if (keptSet.has(j)) continue;
          const cause = kept.some((i) => d.classes[i] === d.classes[j] && d.scores[i]! >= d.scores[j]! && iou(d.boxes, i, j) > threshold);
          expect(cause).toBe(true);
        }
      }),
    );
  });
});
