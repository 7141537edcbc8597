import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { blueOf, greenOf, redOf } from '../../agent/lib/frame-image.js';
import { boxToImage, letterboxGeometry, PAD_VALUE, writePlanarTensor, writePlanarTensorYcbcr } from '../../models/letterbox.js';

describe('letterboxGeometry', () => {
  it('fits bus.jpg (554x740) into 640x640 like Ultralytics: 479x640, 80 px left pad, 81 right', () => {
    const g = letterboxGeometry(554, 740, 640, 640);
    expect(g).toMatchObject({ width: 479, height: 640, left: 80, top: 0 });
    expect(g.scale).toBeCloseTo(640 / 740, 12);
    expect(640 - g.left - g.width).toBe(81);
  });

  it('centres a landscape image vertically and keeps an exact fit unscaled', () => {
    expect(letterboxGeometry(640, 424, 640, 640)).toMatchObject({ scale: 1, width: 640, height: 424, left: 0, top: 108 });
    expect(letterboxGeometry(1920, 1080, 640, 640)).toMatchObject({ width: 640, height: 360, left: 0, top: 140 });
  });

  it('scales small images up, as Ultralytics does for inference', () => {
    expect(letterboxGeometry(32, 16, 640, 640)).toMatchObject({ scale: 20, width: 640, height: 320, top: 160 });
  });

  it('rounds half sizes to even like Python round()', () => {
    // 5 x 0.5 = 2.5 rounds to 2 in Python (3 with Math.round); 7 x 0.5 = 3.5 rounds to 4.
    expect(letterboxGeometry(10, 5, 5, 5)).toMatchObject({ width: 5, height: 2, top: 1 });
    expect(letterboxGeometry(14, 7, 7, 7)).toMatchObject({ width: 7, height: 4, top: 1 });
  });

  it('handles non-square model inputs and degenerate strips', () => {
    expect(letterboxGeometry(640, 640, 640, 384)).toMatchObject({ width: 384, height: 384, left: 128, top: 0 });
    expect(letterboxGeometry(100_000, 1, 640, 640)).toMatchObject({ width: 640, height: 1, top: 319 });
  });

  it('refuses sizes that are not positive integers, naming the argument', () => {
    expect(() => letterboxGeometry(0, 10, 640, 640)).toThrow(/imageWidth must be a positive integer, got 0/);
    expect(() => letterboxGeometry(10, 10, 640.5, 640)).toThrow(/inputWidth/);
  });

  it('always fits inside the input, touches two opposite sides, and keeps the aspect ratio', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8000 }), fc.integer({ min: 1, max: 8000 }), fc.constantFrom(320, 640, 1280), (w, h, size) => {
        const g = letterboxGeometry(w, h, size, size);
        expect(g.left + g.width).toBeLessThanOrEqual(size);
        expect(g.top + g.height).toBeLessThanOrEqual(size);
        expect(g.width === size || g.height === size).toBe(true);
        // Within rounding of the exact scaled size (at least one pixel for extreme strips).
        expect(Math.abs(g.width - Math.max(1, w * g.scale))).toBeLessThanOrEqual(0.5 + 1e-9);
        expect(Math.abs(g.height - Math.max(1, h * g.scale))).toBeLessThanOrEqual(0.5 + 1e-9);
        const rightPad = size - g.left - g.width;
        expect(rightPad - g.left === 0 || rightPad - g.left === 1).toBe(true);
      }),
    );
  });
});

describe('writePlanarTensor', () => {
  it('writes RGB planes scaled to 0..1 at the letterbox offset and pads with 114/255', () => {
    // A 2x1 image (red, then a 0/128/255 pixel) placed at column 1, row 1 of a 4x4 input.
    const geometry = { inputWidth: 4, inputHeight: 4, scale: 1, width: 2, height: 1, left: 1, top: 1 };
    const tensor = new Float32Array(3 * 16).fill(-1);
    writePlanarTensor(Uint8Array.from([255, 0, 0, 0, 128, 255]), geometry, tensor);
    const pad = PAD_VALUE / 255;
    const plane = (c: number) => Array.from(tensor.subarray(16 * c, 16 * (c + 1)));
    const expected = (first: number, second: number) => [pad, pad, pad, pad, pad, first, second, pad, ...Array<number>(8).fill(pad)];
    expect(plane(0)).toEqual(expected(1, 0).map(Math.fround));
    expect(plane(1)).toEqual(expected(0, 128 / 255).map(Math.fround));
    expect(plane(2)).toEqual(expected(0, 1).map(Math.fround));
  });

  it('overwrites every value of a reused tensor', () => {
    const geometry = letterboxGeometry(3, 2, 3, 3);
    const tensor = new Float32Array(27).fill(Number.NaN);
    writePlanarTensor(new Uint8Array(geometry.width * geometry.height * 3), geometry, tensor);
    expect(tensor.some(Number.isNaN)).toBe(false);
  });

  it('refuses buffers of the wrong size', () => {
    const geometry = letterboxGeometry(2, 2, 4, 4);
    expect(() => writePlanarTensor(new Uint8Array(5), geometry, new Float32Array(48))).toThrow(/image holds 5 bytes, expected 4x4x3/);
    expect(() => writePlanarTensor(new Uint8Array(48), geometry, new Float32Array(47))).toThrow(/tensor holds 47 values/);
  });
});

describe('boxToImage', () => {
  const bus = letterboxGeometry(554, 740, 640, 640);

  it('removes the pad and undoes the scale', () => {
    const s = bus.scale;
    const box = boxToImage(80 + 33 * s, 270 * s, 80 + 166 * s, 620 * s, bus, 554, 740);
    expect(box).toEqual({ xmin: 33, ymin: 270, xmax: 166, ymax: 620 });
  });

  it('clips boxes that reach into the pads to the image', () => {
    expect(boxToImage(10, -5, 630, 700, bus, 554, 740)).toEqual({ xmin: 0, ymin: 0, xmax: 554, ymax: 740 });
  });

  it('maps every box inside the image back within a pixel of where it was', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 16, max: 4000 }),
        fc.integer({ min: 16, max: 4000 }),
        fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })),
        (w, h, [fx, fy]) => {
          const g = letterboxGeometry(w, h, 640, 640);
          const x = fx * w;
          const y = fy * h;
          const box = boxToImage(g.left + x * g.scale, g.top + y * g.scale, g.left + x * g.scale, g.top + y * g.scale, g, w, h);
          expect(Math.abs(box.xmin - x)).toBeLessThanOrEqual(0.5 + 1e-6);
          expect(Math.abs(box.ymax - y)).toBeLessThanOrEqual(0.5 + 1e-6);
        },
      ),
    );
  });
});

describe('writePlanarTensorYcbcr', () => {
  const geometry = { inputWidth: 4, inputHeight: 4, scale: 1, width: 3, height: 2, left: 0, top: 1 };

  it('writes the same tensor as the RGB path from the same pixels (full-range BT.601), pads included', () => {
    // Six 4:4:4 samples: white, black, neutral grey, then strong red, green and blue.
    const planes = { y: Uint8Array.from([255, 0, 128, 76, 150, 29]), cb: Uint8Array.from([128, 128, 128, 85, 44, 255]), cr: Uint8Array.from([128, 128, 128, 255, 21, 107]) };
    const rgb = new Uint8Array(18);
    for (let i = 0; i < 6; i++) rgb.set([redOf(planes.y[i]!, planes.cr[i]!), greenOf(planes.y[i]!, planes.cb[i]!, planes.cr[i]!), blueOf(planes.y[i]!, planes.cb[i]!)], 3 * i);
    expect([...rgb.subarray(0, 9)]).toEqual([255, 255, 255, 0, 0, 0, 128, 128, 128]);
    const [fromPlanes, fromRgb] = [new Float32Array(48).fill(-1), new Float32Array(48).fill(-1)];
    writePlanarTensorYcbcr(planes, geometry, fromPlanes);
    writePlanarTensor(rgb, geometry, fromRgb);
    expect([...fromPlanes]).toEqual([...fromRgb]);
    // Red stays red: the fourth sample's R well above its G and B.
    const red = fromPlanes[2 * 4 + 0]!;
    expect(red).toBeGreaterThan(0.9);
    expect(fromPlanes[16 + 2 * 4]!).toBeLessThan(0.1);
  });

  it('refuses planes of the wrong size', () => {
    const six = new Uint8Array(6);
    expect(() => writePlanarTensorYcbcr({ y: six, cb: six, cr: new Uint8Array(5) }, geometry, new Float32Array(48))).toThrow(/planes hold 6, 6 and 5 bytes, expected 3x2 each/);
    expect(() => writePlanarTensorYcbcr({ y: six, cb: six, cr: six }, geometry, new Float32Array(47))).toThrow(/tensor holds 47 values/);
  });
});
