import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../models/errors.js';
import { DEFAULT_MAX_PIXELS } from '../../models/image-input.js';
import { loadIntruderDetector, type LoadedIntruderDetector } from '../../models/intruder.js';
import { fixture } from '../helpers/fixtures.js';
import { decompressionBombPng } from './intruder-images.js';

const MODEL = fixture('models/yolov8n-int8.onnx');
const image = (name: string) => readFile(fixture(`images/${name}`));

describe('intruder detector input handling', () => {
  let detector: LoadedIntruderDetector;

  beforeAll(async () => {
    detector = await loadIntruderDetector(MODEL, { threads: 2 });
  });
  afterAll(async () => {
    await detector.close();
  });

  async function refusal(input: Parameters<LoadedIntruderDetector['detect']>[0]): Promise<InvalidInputError> {
    const error = await detector.detect(input).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }

  it('refuses an empty buffer', async () => {
    expect((await refusal(new Uint8Array(0))).message).toBe('empty image (0 bytes)');
  });

  it('refuses bytes that are not an image', async () => {
    expect((await refusal(Buffer.from('{"not": "an image"}'))).message).toMatch(/^not a decodable image \(.+\)$/);
  });

  it('refuses truncated JPEG and PNG files, naming the format', async () => {
    const jpeg = await image('bus.jpg');
    expect((await refusal(jpeg.subarray(0, jpeg.length / 2))).message).toMatch(/^cannot decode the jpeg image \(.+\)$/);
    const png = await image('cat.png');
    expect((await refusal(png.subarray(0, png.length / 2))).message).toMatch(/^cannot decode the png image \(.+\)$/);
  });

  it('refuses a decompression bomb from its header, before decoding it', async () => {
    const bomb = decompressionBombPng(20_000, 20_000);
    expect(bomb.length).toBeLessThan(200_000);
    const error = await refusal(bomb);
    expect(error.message).toBe(`image is 20000x20000 (400000000 pixels), over the limit of ${DEFAULT_MAX_PIXELS} pixels`);
  });

  it('applies a configured pixel limit to encoded images and raw frames', async () => {
    const small = await loadIntruderDetector(MODEL, { threads: 1, maxPixels: 100_000 });
    try {
      await expect(small.detect(await image('bus.jpg'))).rejects.toThrow('image is 554x740 (409960 pixels), over the limit of 100000 pixels');
      await expect(small.detect({ data: new Uint8Array(400 * 300 * 3), width: 400, height: 300 })).rejects.toThrow(/400x300 \(120000 pixels\)/);
    } finally {
      await small.close();
    }
  });

  it('refuses vector formats that sharp could render', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64"/></svg>');
    expect((await refusal(svg)).message).toMatch(/^unsupported image format 'svg'/);
  });

  it('refuses raw frames whose size and data disagree', async () => {
    expect((await refusal({ data: new Uint8Array(10), width: 2, height: 2 })).message).toBe(
      'raw RGB frame: 2x2 needs 12 bytes (3 per pixel), got 10',
    );
    expect((await refusal({ data: new Uint8Array(0), width: 0, height: 2 })).message).toMatch(/must be positive integers, got 0x2/);
  });

  it('keeps working after refusing bad input', async () => {
    await refusal(Buffer.from('garbage'));
    expect((await detector.detect(await image('cat.png'))).objects.map((o) => o.class)).toEqual(['cat']);
  });

  it('reads WebP, RGBA, 16-bit and greyscale images', async () => {
    const cat = await image('cat.png');
    const variants = {
      webp: await sharp(cat).webp({ quality: 90 }).toBuffer(),
      rgba: await sharp(cat).ensureAlpha(0.5).png().toBuffer(),
      sixteenBit: await sharp(cat).toColourspace('rgb16').png().toBuffer(),
    };
    for (const [name, bytes] of Object.entries(variants)) {
      const result = await detector.detect(bytes);
      expect({ name, classes: result.objects.map((o) => o.class), image: result.image }).toEqual({ name, classes: ['cat'], image: { width: 451, height: 300 } });
    }
    const grey = await detector.detect(await sharp(await image('person.jpg')).greyscale().png().toBuffer());
    expect(grey.image).toEqual({ width: 640, height: 424 });
    expect(grey.objects.map((o) => o.class)).toContain('person');
  });

  it('applies EXIF orientation: boxes refer to the image as it is displayed', async () => {
    const upright = await detector.detect(await image('person.jpg'));
    // Pixels stored turned a quarter to the left, with EXIF orientation 6 ("turn right to display").
    const stored = await sharp(await image('person.jpg')).rotate(-90).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer();
    expect((await sharp(stored).metadata()).width).toBe(424);
    const displayed = await detector.detect(stored);
    expect(displayed.image).toEqual({ width: 640, height: 424 });
    expect(displayed.objects.map((o) => o.class)).toEqual(upright.objects.map((o) => o.class));
    displayed.objects.forEach((object, i) => {
      const reference = upright.objects[i]!.bbox;
      for (const key of ['xmin', 'ymin', 'xmax', 'ymax'] as const) expect(Math.abs(object.bbox[key] - reference[key])).toBeLessThanOrEqual(4);
    });
  });
});
