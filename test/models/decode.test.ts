import { describe, expect, it } from 'vitest';
import { anchorCount, decodeCandidates, resolveOutputLayout } from '../../models/yolo-decode.js';

interface Anchor {
  cx: number;
  cy: number;
  w: number;
  h: number;
  scores: number[];
}

/** A hand-made head output: channel-first [1, 4+nc, N] or transposed [1, N, 4+nc]. */
function headOutput(anchors: Anchor[], channelsFirst: boolean): { data: Float32Array; dims: number[] } {
  const channels = 4 + anchors[0]!.scores.length;
  const n = anchors.length;
  const data = new Float32Array(channels * n);
  anchors.forEach((a, i) => {
    [a.cx, a.cy, a.w, a.h, ...a.scores].forEach((value, c) => {
      data[channelsFirst ? c * n + i : i * channels + c] = value;
    });
  });
  return { data, dims: channelsFirst ? [1, channels, n] : [1, n, channels] };
}

const anchors: Anchor[] = [
  { cx: 100, cy: 50, w: 20, h: 10, scores: [0.1, 0.8, 0.3] }, // class 1 at 0.8
  { cx: 10, cy: 10, w: 4, h: 4, scores: [0.2, 0.1, 0.3] }, // best 0.3: below threshold
  { cx: 300, cy: 200, w: 60, h: 100, scores: [0.55, 0.5, 0.1] }, // class 0 at 0.55
  { cx: 0, cy: 0, w: 2, h: 2, scores: [0.5, 0.1, 0.5] }, // tie at exactly 0.5: the first class wins
];

describe('decodeCandidates', () => {
  for (const channelsFirst of [true, false]) {
    it(`keeps each anchor's best class at or above the threshold (${channelsFirst ? '[1, 4+nc, N]' : '[1, N, 4+nc]'})`, () => {
      const { data, dims } = headOutput(anchors, channelsFirst);
      const c = decodeCandidates(data, dims, { channelsFirst, numClasses: 3 }, 0.5);
      expect(c.count).toBe(3);
      expect(Array.from(c.classes)).toEqual([1, 0, 0]);
      expect(Array.from(c.scores)).toEqual([0.8, 0.55, 0.5].map(Math.fround));
      // Centre/size turned into corners.
      expect(Array.from(c.boxes)).toEqual([90, 45, 110, 55, 270, 150, 330, 250, -1, -1, 1, 1]);
    });
  }

  it('returns nothing when no score reaches the threshold, and ignores NaN scores', () => {
    const { data, dims } = headOutput([{ cx: 1, cy: 1, w: 1, h: 1, scores: [Number.NaN, 0.2] }], true);
    expect(decodeCandidates(data, dims, { channelsFirst: true, numClasses: 2 }, 0.25).count).toBe(0);
  });

  it('refuses a threshold of 0 or less (every anchor would be a candidate)', () => {
    const { data, dims } = headOutput(anchors, true);
    expect(() => decodeCandidates(data, dims, { channelsFirst: true, numClasses: 3 }, 0)).toThrow('threshold must be > 0, got 0');
  });

  it('refuses an output whose shape does not match the layout, naming both shapes', () => {
    const { data, dims } = headOutput(anchors, true);
    expect(() => decodeCandidates(data, dims, { channelsFirst: true, numClasses: 80 }, 0.5)).toThrow(
      'model produced an output of shape [1, 7, 4], expected [1, 84, N] or [1, N, 84]',
    );
  });
});

describe('resolveOutputLayout', () => {
  it('reads the layout from fixed shapes in either orientation', () => {
    expect(resolveOutputLayout([1, 84, 8400], 80)).toEqual({ channelsFirst: true, numClasses: 80 });
    expect(resolveOutputLayout([1, 8400, 84], 80)).toEqual({ channelsFirst: false, numClasses: 80 });
    expect(resolveOutputLayout([1, 6, 6], 2)).toEqual({ channelsFirst: true, numClasses: 2 });
  });

  it('accepts dynamic dimensions where the channel count fits', () => {
    expect(resolveOutputLayout(['batch', 84, 'anchors'], 80).channelsFirst).toBe(true);
    expect(resolveOutputLayout([1, 'anchors', 84], 80).channelsFirst).toBe(false);
    expect(resolveOutputLayout([1, 'a', 'b'], 80).channelsFirst).toBe(true);
  });

  it('names the expected and the actual shape when the classes do not fit', () => {
    expect(() => resolveOutputLayout([1, 84, 8400], 3)).toThrow(
      'output shape [1, 84, 8400] does not fit 3 classes: expected [1, 7, N] or [1, N, 7]',
    );
    expect(() => resolveOutputLayout([1, 3, 640, 640], 80)).toThrow(/output shape \[1, 3, 640, 640\] does not fit 80 classes/);
    expect(() => resolveOutputLayout([2, 84, 8400], 80)).toThrow(/\[2, 84, 8400\]/);
    expect(() => resolveOutputLayout([1, 84, 'n'], 2)).toThrow(/expected \[1, 6, N\]/);
  });
});

describe('anchorCount', () => {
  it('reads N from the actual shape', () => {
    expect(anchorCount([1, 84, 8400], { channelsFirst: true, numClasses: 80 })).toBe(8400);
    expect(anchorCount([1, 2100, 84], { channelsFirst: false, numClasses: 80 })).toBe(2100);
    expect(() => anchorCount([1, 8400, 84], { channelsFirst: true, numClasses: 80 })).toThrow(/\[1, 8400, 84\]/);
  });
});
