import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { yuv420Layout, type Yuv420Image } from '../../../agent/lib/frame-image.js';
import { Yuv420StreamSplitter } from '../../../drivers/camera/yuv420-splitter.js';
import { padRows } from './yuv420-fixtures.js';

/** A frame of distinct-looking pixels (a seeded pattern, so a byte out of place shows). */
function frame(width: number, height: number, seed: number): Yuv420Image {
  const data = new Uint8Array(yuv420Layout(width, height).frameBytes);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + seed * 97 + (i >> 7)) & 0xff;
  return { format: 'yuv420', width, height, data };
}

/**
 * Writes `chunk` as a socket read would: into the splitter's read buffer, as many reads as it takes
 * (a read never goes past the frame in progress). Returns the frames completed.
 */
function feed(splitter: Yuv420StreamSplitter, chunk: Uint8Array): Yuv420Image[] {
  const out: Yuv420Image[] = [];
  for (let at = 0; at < chunk.length; ) {
    const into = splitter.readBuffer();
    const bytes = Math.min(into.length, chunk.length - at);
    into.set(chunk.subarray(at, at + bytes));
    at += bytes;
    out.push(...splitter.received(bytes));
  }
  return out;
}

/** Feeds `stream` cut at `cuts` (sorted positions) and returns every frame that came out. */
function split(stream: Buffer, cuts: number[], splitter: Yuv420StreamSplitter): Yuv420Image[] {
  const out: Yuv420Image[] = [];
  let from = 0;
  for (const cut of [...cuts, stream.length]) {
    out.push(...feed(splitter, stream.subarray(from, cut)));
    from = cut;
  }
  return out;
}

const same = (a: Yuv420Image, b: Yuv420Image) => a.width === b.width && a.height === b.height && Buffer.from(a.data).equals(Buffer.from(b.data));

describe('Yuv420StreamSplitter', () => {
  it('computes rpicam-vid padded strides: 780 wide arrives as 832-byte Y rows and 416-byte U/V rows', () => {
    expect(yuv420Layout(780, 440, 64)).toMatchObject({ yStride: 832, uvStride: 416, chromaWidth: 390, frameBytes: 832 * 440 + 2 * 416 * 220 });
    expect(yuv420Layout(1280, 720, 64)).toMatchObject({ yStride: 1280, uvStride: 640, frameBytes: 1280 * 720 * 1.5 });
    expect(yuv420Layout(780, 440)).toMatchObject({ yStride: 780, uvStride: 390 });
  });

  // 780 wide is padded (832-byte Y rows); 768 is a multiple of 64, so each frame is handed on in the
  // buffer it was gathered in: a later read must not write into a frame already returned (and not recycled).
  it.each([
    { width: 780, padding: 'padded' },
    { width: 768, padding: 'unpadded' },
  ])('returns each frame cropped and bit-exact however a $padding stream is cut', ({ width }) => {
    const frames = [frame(width, 440, 1), frame(width, 440, 2), frame(width, 440, 3)];
    const stream = Buffer.concat(frames.map((f) => padRows(f, 64)));
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 40 }), (cuts) => {
        const out = split(stream, cuts.sort((a, b) => a - b), new Yuv420StreamSplitter(width, 440, 64));
        expect(out).toHaveLength(frames.length);
        out.forEach((f, i) => expect(same(f, frames[i]!)).toBe(true));
      }),
      { numRuns: 100 },
    );
  });

  it('copes with one byte at a time and with unpadded (ffmpeg) streams', () => {
    const frames = [frame(66, 6, 4), frame(66, 6, 5)];
    const padded = Buffer.concat(frames.map((f) => padRows(f, 64)));
    const out = split(padded, Array.from({ length: padded.length - 1 }, (_, i) => i + 1), new Yuv420StreamSplitter(66, 6, 64));
    expect(out.map((f, i) => same(f, frames[i]!))).toEqual([true, true]);
    const packed = Buffer.concat(frames.map((f) => Buffer.from(f.data)));
    expect(split(packed, [7, 500], new Yuv420StreamSplitter(66, 6, 1)).map((f, i) => same(f, frames[i]!))).toEqual([true, true]);
  });

  it('forgets a partial frame on reset (a restarted process) and counts it', () => {
    const splitter = new Yuv420StreamSplitter(66, 6, 64);
    const whole = padRows(frame(66, 6, 6), 64);
    expect(feed(splitter, whole.subarray(0, 100))).toEqual([]);
    splitter.reset();
    expect(splitter.brokenFrames).toBe(1);
    const [next] = feed(splitter, whole);
    expect(same(next!, frame(66, 6, 6))).toBe(true);
  });

  // Reuse is what keeps a static scene cheap (a fresh 1.4 MB frame each time costs page faults); it
  // must never hand out memory a consumer still holds.
  it.each([
    { width: 780, padding: 'padded' },
    { width: 768, padding: 'unpadded' },
  ])('reuses the memory of a recycled $padding frame, once, and never of a frame still held', ({ width }) => {
    const splitter = new Yuv420StreamSplitter(width, 8, 64);
    const frames = [1, 2, 3, 4].map((seed) => frame(width, 8, seed));
    const [first] = feed(splitter, padRows(frames[0]!, 64));
    const [held] = feed(splitter, padRows(frames[1]!, 64));
    splitter.recycle(first!);
    splitter.recycle(first!);
    splitter.recycle({ format: 'yuv420', width, height: 8, data: new Uint8Array(first!.data.length) });
    const [third] = feed(splitter, padRows(frames[2]!, 64));
    const [fourth] = feed(splitter, padRows(frames[3]!, 64));
    // Gathered in place (unpadded), the recycled memory takes the frame after next; cropped, the next.
    expect([third!.data, fourth!.data].filter((data) => data === first!.data)).toHaveLength(1);
    expect(same(held!, frames[1]!)).toBe(true);
    expect(same(third!, frames[2]!) && same(fourth!, frames[3]!)).toBe(true);
  });
});
