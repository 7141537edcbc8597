import { describe, expect, it } from 'vitest';
import { checkYuv420, yuv420Layout, yuv420Luma, yuv420ToRgb, type Yuv420Image } from '../../agent/lib/frame-image.js';

/** A frame of one colour given as full-range Y, Cb, Cr. */
function flat(width: number, height: number, y: number, cb: number, cr: number): Yuv420Image {
  const layout = yuv420Layout(width, height);
  const data = new Uint8Array(layout.frameBytes);
  const chroma = layout.chromaWidth * layout.chromaHeight;
  data.fill(y, 0, width * height);
  data.fill(cb, width * height, width * height + chroma);
  data.fill(cr, width * height + chroma);
  return { format: 'yuv420', width, height, data };
}

describe('yuv420 frames', () => {
  it('convert with the full-range BT.601 (JPEG) matrix: 0 is black, 255 white, no 16..235 stretch', () => {
    expect([...yuv420ToRgb(flat(2, 2, 0, 128, 128)).subarray(0, 3)]).toEqual([0, 0, 0]);
    expect([...yuv420ToRgb(flat(2, 2, 255, 128, 128)).subarray(0, 3)]).toEqual([255, 255, 255]);
    expect([...yuv420ToRgb(flat(2, 2, 16, 128, 128)).subarray(0, 3)]).toEqual([16, 16, 16]);
    // Pure red as a JPEG encoder stores it: Y 76, Cb 85, Cr 255.
    const [r, g, b] = yuv420ToRgb(flat(2, 2, 76, 85, 255));
    expect([r, g, b]).toEqual([254, 0, 0]);
  });

  it('share each chroma sample between a 2x2 block, odd sizes included', () => {
    const image = flat(3, 3, 128, 128, 128);
    const layout = yuv420Layout(3, 3);
    expect(layout).toMatchObject({ chromaWidth: 2, chromaHeight: 2, frameBytes: 9 + 8 });
    image.data[9 + 4 + 1] = 255; // Cr of the top right block (x 2, y 0..1)
    const rgb = yuv420ToRgb(image);
    expect(rgb[3 * 2]).toBe(255); // pixel (2, 0) is red-shifted
    expect(rgb[3 * 1]).toBe(128); // pixel (1, 0) is not
    expect(yuv420Luma(image)).toHaveLength(9);
  });

  it('refuse data that does not match the size, naming both', () => {
    expect(() => checkYuv420({ format: 'yuv420', width: 4, height: 4, data: new Uint8Array(10) })).toThrow(/4x4 needs 24 bytes, got 10/);
    expect(() => checkYuv420({ format: 'yuv420', width: 0, height: 4, data: new Uint8Array(0) })).toThrow(/positive integers/);
  });
});
