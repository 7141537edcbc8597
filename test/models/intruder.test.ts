import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../models/errors.js';
import { loadIntruderDetector, type LoadedIntruderDetector } from '../../models/intruder.js';
import { COCO80 } from '../../models/labels.js';
import type { BoundingBox, DetectedObject, DetectionResult } from '../../models/types.js';
import { fixture } from '../helpers/fixtures.js';

const MODEL = fixture('models/yolov8n-int8.onnx');
const image = (name: string) => readFile(fixture(`images/${name}`));

/** Boxes "within a few pixels" and scores within thread-count noise of the fixture README. */
const BOX_TOLERANCE_PX = 4;
const SCORE_TOLERANCE = 0.02;

function expectNear(actual: DetectedObject, expected: { class: string; confidence: number; bbox: [number, number, number, number] }) {
  expect(actual.class).toBe(expected.class);
  expect(Math.abs(actual.confidence - expected.confidence)).toBeLessThanOrEqual(SCORE_TOLERANCE);
  const box: BoundingBox = actual.bbox;
  [box.xmin, box.ymin, box.xmax, box.ymax].forEach((value, i) => {
    expect(Math.abs(value - expected.bbox[i]!)).toBeLessThanOrEqual(BOX_TOLERANCE_PX);
  });
}

const withoutTimings = ({ timings_ms: _timings, ...rest }: DetectionResult) => rest;

describe('intruder detector on the fixture model', () => {
  let detector: LoadedIntruderDetector;
  let everything: LoadedIntruderDetector;

  beforeAll(async () => {
    detector = await loadIntruderDetector(MODEL, { threads: 2 });
    everything = await loadIntruderDetector(MODEL, { threads: 2, allClasses: true });
  });
  afterAll(async () => {
    await detector.close();
    await everything.close();
  });

  it("finds bus.jpg's reference detections: three people (intruders) and a bus (counted, not an intruder)", async () => {
    const result = await detector.detect(await image('bus.jpg'));
    expect(result.intruder).toBe(true);
    expect(result.total_objects).toBe(4);
    expect(result.image).toEqual({ width: 554, height: 740 });
    const byLeft = [...result.objects].sort((a, b) => a.bbox.xmin - b.bbox.xmin);
    expect(byLeft).toHaveLength(3);
    expectNear(byLeft[0]!, { class: 'person', confidence: 0.9, bbox: [33, 270, 166, 620] });
    expectNear(byLeft[1]!, { class: 'person', confidence: 0.9, bbox: [151, 278, 234, 588] });
    expectNear(byLeft[2]!, { class: 'person', confidence: 0.9, bbox: [461, 264, 553, 602] });
    // Highest confidence first.
    const confidences = result.objects.map((o) => o.confidence);
    expect(confidences).toEqual([...confidences].sort((a, b) => b - a));

    const all = await everything.detect(await image('bus.jpg'));
    expect(all.objects).toHaveLength(4);
    expectNear(all.objects.find((o) => o.class === 'bus')!, { class: 'bus', confidence: 0.84, bbox: [13, 154, 545, 514] });
  });

  it('matches the reference classes of the other fixture images at the 0.5 threshold', async () => {
    const dog = await everything.detect(await image('dog.jpg'));
    expectNear(dog.objects[0]!, { class: 'dog', confidence: 0.96, bbox: [131, 220, 308, 539] });
    expect(dog.objects.map((o) => o.class)).toContain('bicycle');
    for (const other of dog.objects.slice(1)) expect(['bicycle', 'truck', 'car']).toContain(other.class);
    expect((await detector.detect(await image('dog.jpg'))).objects.map((o) => o.class)).toEqual(['dog']);

    const person = await detector.detect(await image('person.jpg'));
    expect(person.objects.map((o) => [o.class, Number(o.confidence.toFixed(2))])).toEqual([
      ['person', 0.94],
      ['dog', 0.91],
    ]);
    expect(person.total_objects).toBe(3); // plus the horse

    const cat = await detector.detect(await image('cat.png'));
    expect(cat.objects.map((o) => o.class)).toEqual(['cat']);
    expect(Math.abs(cat.objects[0]!.confidence - 0.88)).toBeLessThanOrEqual(SCORE_TOLERANCE);

    const coffee = await detector.detect(await image('coffee.png'));
    expect(coffee.intruder).toBe(false);
    expect(coffee.objects).toEqual([]);
    expect(coffee.total_objects).toBeGreaterThan(0); // a cup and a table, not intruders
  });

  it('reports its timings: each part positive and together within the total', async () => {
    const { timings_ms: t } = await detector.detect(await image('bus.jpg'));
    for (const part of [t.decode, t.inference, t.postprocess]) expect(part).toBeGreaterThan(0);
    expect(t.decode + t.inference + t.postprocess).toBeLessThanOrEqual(t.total + 0.05);
  });

  it('gives a raw RGB frame the same result as the encoded image, resized or not', async () => {
    // bus.jpg is scaled down to fit; person.jpg (640x424) fits as it is.
    for (const name of ['bus.jpg', 'person.jpg']) {
      const { data, info } = await sharp(await image(name)).raw().toBuffer({ resolveWithObject: true });
      expect(info.channels).toBe(3);
      const fromRaw = await detector.detect({ data, width: info.width, height: info.height });
      const fromJpeg = await detector.detect(await image(name));
      expect(withoutTimings(fromRaw)).toEqual(withoutTimings(fromJpeg));
    }
  });

  it('never mixes up concurrent callers: each gets the result it gets alone', async () => {
    const names = ['bus.jpg', 'dog.jpg', 'person.jpg', 'cat.png', 'coffee.png', 'bus.jpg'];
    const images = await Promise.all(names.map(image));
    const alone: ReturnType<typeof withoutTimings>[] = [];
    for (const bytes of images) alone.push(withoutTimings(await everything.detect(bytes)));
    const together = await Promise.all(images.map((bytes) => everything.detect(bytes)));
    expect(together.map(withoutTimings)).toEqual(alone);
  });

  it('describes the model: file sha256, name from the file, version from metadata, names from metadata', async () => {
    const sha256 = createHash('sha256').update(await readFile(MODEL)).digest('hex');
    expect(detector.info).toEqual({ name: 'yolov8n-int8', version: '8.4.115', sha256, path: MODEL });
    expect(detector.classNames).toEqual(COCO80);
  });
});

describe('intruder detector options', () => {
  it('counts only the configured classes as intruders, and reports the name and version given', async () => {
    const busOnly = await loadIntruderDetector(MODEL, { threads: 2, classes: ['bus'], name: 'garage', version: 'v7' });
    try {
      expect(busOnly.info).toMatchObject({ name: 'garage', version: 'v7' });
      const result = await busOnly.detect(await image('bus.jpg'));
      expect(result.objects.map((o) => o.class)).toEqual(['bus']);
      expect(result.total_objects).toBe(4);
      expect((await busOnly.detect(await image('cat.png'))).intruder).toBe(false);
    } finally {
      await busOnly.close();
    }
  });

  it('applies the threshold: at 0.3 the fourth person (0.34) of bus.jpg appears', async () => {
    const low = await loadIntruderDetector(MODEL, { threads: 2, threshold: 0.3 });
    try {
      const people = (await low.detect(await image('bus.jpg'))).objects;
      expect(people).toHaveLength(4);
      expectNear(people[3]!, { class: 'person', confidence: 0.34, bbox: [0, 401, 40, 597] });
    } finally {
      await low.close();
    }
  });

  it('refuses intruder classes the model lacks, listing the classes it has', async () => {
    const attempt = loadIntruderDetector(MODEL, { classes: ['person', 'unicorn', 'yeti'] });
    await expect(attempt).rejects.toBeInstanceOf(InvalidInputError);
    await expect(attempt).rejects.toThrow(/intruder classes 'unicorn', 'yeti' are not classes of this model; it has: person, bicycle, car, .*, toothbrush$/);
    await expect(loadIntruderDetector(MODEL, { classes: [] })).rejects.toThrow(/no intruder classes given/);
  });

  it('refuses out-of-range numbers, naming the option', async () => {
    await expect(loadIntruderDetector(MODEL, { threshold: 0 })).rejects.toThrow('threshold must be > 0 and <= 1, got 0');
    await expect(loadIntruderDetector(MODEL, { iou: 1.5 })).rejects.toThrow(/iou must be/);
    await expect(loadIntruderDetector(MODEL, { threads: 0 })).rejects.toThrow('threads must be a positive integer, got 0');
    await expect(loadIntruderDetector(MODEL, { maxPixels: -1 })).rejects.toThrow(/maxPixels/);
  });

  it('lets detections already started finish on close, then refuses new ones', async () => {
    const d = await loadIntruderDetector(MODEL, { threads: 2 });
    const started = d.detect(await image('cat.png'));
    await d.close();
    expect((await started).objects.map((o) => o.class)).toEqual(['cat']);
    await expect(d.detect(await image('cat.png'))).rejects.toThrow(/is closed/);
    await d.close();
  });
});
