import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { isCompleteJpeg, JpegStreamSplitter } from '../../../drivers/camera/jpeg-splitter.js';
import { fixture } from '../../helpers/fixtures.js';
import { withExifThumbnail } from './helpers.js';

const bus = readFileSync(fixture('images/bus.jpg'));
const dog = readFileSync(fixture('images/dog.jpg'));
let progressive: Buffer;
let exif: Buffer;
let small: Buffer;

/** Feeds `stream` cut at `cuts` (sorted positions) and returns every frame that came out. */
function split(stream: Buffer, cuts: number[], splitter = new JpegStreamSplitter()): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, stream.length]) {
    out.push(...splitter.push(stream.subarray(from, cut)));
    from = cut;
  }
  return out;
}

beforeAll(async () => {
  small = await sharp(bus).resize(64, 48).jpeg({ quality: 80 }).toBuffer();
  progressive = await sharp(dog).resize(320, 240).jpeg({ progressive: true }).toBuffer();
  exif = withExifThumbnail(bus, small);
});

describe('JpegStreamSplitter', () => {
  it('test inputs cover the hard cases: a progressive JPEG (several scans), an EXIF thumbnail (a second SOI/EOI)', async () => {
    expect((await sharp(progressive).metadata()).isProgressive).toBe(true);
    expect(exif.indexOf(Buffer.from([0xff, 0xd8]), 2)).toBeGreaterThan(0);
    expect(exif.indexOf(Buffer.from([0xff, 0xd9]))).toBeLessThan(exif.length - 2);
  });

  it('returns each frame whole and bit-exact however the stream is cut', () => {
    const frames = [bus, exif, progressive, dog, small];
    const stream = Buffer.concat(frames);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 60 }), (cuts) => {
        const out = split(stream, cuts.sort((a, b) => a - b));
        expect(out).toHaveLength(frames.length);
        out.forEach((frame, i) => expect(frame.equals(frames[i]!)).toBe(true));
      }),
      { numRuns: 150 },
    );
  });

  it('copes with one byte at a time', () => {
    const stream = Buffer.concat([exif, small]);
    const cuts = Array.from({ length: stream.length - 1 }, (_, i) => i + 1);
    const out = split(stream, cuts);
    expect(out.map((frame) => frame.length)).toEqual([exif.length, small.length]);
    expect(Buffer.concat(out).equals(stream)).toBe(true);
  });

  it('skips bytes between frames that are not JPEG data, and counts them', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), fc.nat(small.length), (before, between, cut) => {
        // Garbage without 0xFF cannot hold an SOI; with it the test would not know what to expect.
        const noise = (bytes: Uint8Array) => Buffer.from(bytes.map((b) => (b === 0xff ? 0xfe : b)));
        const stream = Buffer.concat([noise(before), small, noise(between), small]);
        const splitter = new JpegStreamSplitter();
        const out = split(stream, [Math.min(cut + before.length, stream.length)], splitter);
        expect(out).toHaveLength(2);
        expect(out.every((frame) => frame.equals(small))).toBe(true);
        expect(splitter.skippedBytes).toBe(before.length + between.length);
        expect(splitter.brokenFrames).toBe(0);
      }),
      { numRuns: 100 },
    );
  });

  it('drops a frame cut short by the next SOI (a writer restarted mid-frame) and keeps the next', () => {
    // Cut in the entropy-coded data, where nearly all of a frame's bytes are (a cut inside the few header
    // bytes can make a segment length swallow the next SOI: that frame is lost too, then sync resumes).
    const sos = bus.indexOf(Buffer.from([0xff, 0xda]));
    const entropyStart = sos + 2 + bus.readUInt16BE(sos + 2);
    fc.assert(
      fc.property(fc.integer({ min: entropyStart, max: bus.length - 2 }), (keep) => {
        const splitter = new JpegStreamSplitter();
        const out = split(Buffer.concat([bus.subarray(0, keep), dog]), [], splitter);
        expect(out).toHaveLength(1);
        expect(out[0]!.equals(dog)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('walks stuffed bytes, restart markers and fill bytes in entropy-coded data', () => {
    const soi = [0xff, 0xd8];
    const app0 = [0xff, 0xe0, 0x00, 0x04, 0xff, 0xd9]; // an EOI inside a segment body is skipped
    const sos = [0xff, 0xda, 0x00, 0x02];
    const entropy = [0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56, 0xff, 0xd7, 0xff, 0xff, 0xd1, 0x78];
    const frame = Buffer.from([...soi, 0xff, 0xff, ...app0, ...sos, ...entropy, 0xff, 0xd9]);
    const out = split(Buffer.concat([frame, frame]), [5, 15, 21]);
    expect(out).toHaveLength(2);
    expect(out.every((f) => f.equals(frame))).toBe(true);
  });

  it('resynchronises after a corrupt segment structure', () => {
    const corrupt = Buffer.from([0xff, 0xd8, 0x12, 0x34, 0x56]); // no marker where one must be
    const splitter = new JpegStreamSplitter();
    const out = split(Buffer.concat([corrupt, small]), [], splitter);
    expect(out).toHaveLength(1);
    expect(out[0]!.equals(small)).toBe(true);
    expect(splitter.brokenFrames).toBe(1);
  });

  it('drops a frame larger than the limit instead of growing without bound, then recovers', () => {
    const splitter = new JpegStreamSplitter(dog.length - 1, 1024);
    const out = split(Buffer.concat([dog, small]), [4096, 65536], splitter);
    expect(out).toHaveLength(1);
    expect(out[0]!.equals(small)).toBe(true);
    expect(splitter.brokenFrames).toBe(1);
  });

  it('forgets a partial frame on reset()', () => {
    const splitter = new JpegStreamSplitter();
    expect(splitter.push(bus.subarray(0, 5000))).toHaveLength(0);
    splitter.reset();
    expect(splitter.push(bus.subarray(5000))).toHaveLength(0);
    const [frame] = splitter.push(small);
    expect(frame!.equals(small)).toBe(true);
  });
});

describe('isCompleteJpeg', () => {
  it('accepts exactly one whole JPEG', () => {
    expect(isCompleteJpeg(bus)).toBe(true);
    expect(isCompleteJpeg(exif)).toBe(true);
    expect(isCompleteJpeg(progressive)).toBe(true);
    expect(isCompleteJpeg(bus.subarray(0, bus.length - 1))).toBe(false);
    expect(isCompleteJpeg(Buffer.concat([bus, Buffer.from('trailer')]))).toBe(false);
    expect(isCompleteJpeg(Buffer.from('not a jpeg at all'))).toBe(false);
    expect(isCompleteJpeg(Buffer.alloc(0))).toBe(false);
  });
});
