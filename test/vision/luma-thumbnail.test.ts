import { describe, expect, it } from 'vitest';
import { lumaThumbnail } from '../../agent/vision/luma-thumbnail.js';

describe('lumaThumbnail', () => {
  it('averages each cell of the Y plane and ignores the chroma planes', () => {
    const y = [10, 20, 100, 100, 30, 40, 100, 100, 0, 0, 255, 255, 0, 4, 255, 255];
    const data = Uint8Array.from([...y, ...new Array<number>(8).fill(77)]);
    expect([...lumaThumbnail({ format: 'yuv420', width: 4, height: 4, data }, 2, 2)]).toEqual([25, 100, 1, 255]);
  });
});
