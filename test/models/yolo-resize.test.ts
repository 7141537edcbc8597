import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIntruderDetector } from '../../models/intruder.js';
import { readOnnxMetadata } from '../../models/onnx-proto.js';
import * as ort from '../../models/onnxruntime.js';
import { anchorCount, resizeYoloInput } from '../../models/yolo-resize.js';
import { packageRoot } from '../../agent/lib/paths.js';
import { fixture } from '../helpers/fixtures.js';

const MODEL = fixture('models/yolov8n-int8.onnx');

/** Runs `model` once on `pixels` ([1, 3, S, S] floats) and returns its one output. */
async function run(model: Uint8Array, size: number, pixels: Float32Array): Promise<ort.Tensor> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  try {
    const outputs = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', pixels, [1, 3, size, size]) });
    return outputs[session.outputNames[0]!]!;
  } finally {
    await session.release();
  }
}

/** A seeded input that looks like an image to the model (smooth bands), the same on every run. */
function pixels(size: number): Float32Array {
  const data = new Float32Array(3 * size * size);
  for (let i = 0; i < data.length; i++) data[i] = ((i % size) * 7 + Math.floor(i / size) * 3) % 255 / 255;
  return data;
}

describe('resizeYoloInput on the fixture YOLOv8n', () => {
  let original: Uint8Array;
  let dir: string;
  beforeAll(async () => {
    original = await readFile(MODEL);
    dir = await mkdtemp(join(tmpdir(), 'yolo-resize-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('counts the grid cells of each size (80x80 + 40x40 + 20x20 at 640)', () => {
    expect(anchorCount(640)).toBe(8400);
    expect(anchorCount(320)).toBe(2100);
  });

  it('keeps the model exactly as it is when re-targeted to its own size (nothing lost in the rewrite)', async () => {
    const same = resizeYoloInput(original, 640);
    const input = pixels(640);
    const [before, after] = [await run(original, 640, input), await run(same, 640, input)];
    expect(after.dims).toEqual(before.dims);
    expect(Buffer.from((after.data as Float32Array).buffer).equals(Buffer.from((before.data as Float32Array).buffer))).toBe(true);
    expect(readOnnxMetadata(same)).toEqual(readOnnxMetadata(original));
  });

  it("runs at 320 with the head's 2100 cells and finds bus.jpg's people and bus where the 640 model does", async () => {
    const small = resizeYoloInput(original, 320);
    expect(readOnnxMetadata(small)['imgsz']).toBe('[320, 320]');
    expect((await run(small, 320, pixels(320))).dims).toEqual([1, 84, 2100]);

    const path = join(dir, 'yolov8n-320.onnx');
    await writeFile(path, small);
    const detector = await loadIntruderDetector(path, { threads: 2, allClasses: true });
    try {
      expect(detector.inputSize).toEqual({ width: 320, height: 320 });
      const result = await detector.detect(await readFile(fixture('images/bus.jpg')));
      const people = result.objects.filter((o) => o.class === 'person').sort((a, b) => a.bbox.xmin - b.bbox.xmin);
      // The fixture README's references at 640; at half the resolution a box moves by a few pixels more.
      const references = [
        [33, 270, 166, 620],
        [151, 278, 234, 588],
        [461, 264, 553, 602],
      ];
      expect(people).toHaveLength(3);
      people.forEach((person, i) => {
        const { xmin, ymin, xmax, ymax } = person.bbox;
        [xmin, ymin, xmax, ymax].forEach((value, k) => expect(Math.abs(value - references[i]![k]!)).toBeLessThanOrEqual(16));
      });
      expect(result.objects.some((o) => o.class === 'bus')).toBe(true);
    } finally {
      await detector.close();
    }
  });

  it('refuses a size that is not a multiple of the largest stride, and a graph that is not a YOLOv8 head, with the reason', async () => {
    expect(() => resizeYoloInput(original, 300)).toThrow(/multiple of 32, got 300/);
    const forecaster = await readFile(join(packageRoot(), 'models', 'temperature-forecast.onnx'));
    expect(() => resizeYoloInput(forecaster, 320)).toThrow(/not a YOLOv8/);
    expect(() => resizeYoloInput(new Uint8Array([0xff, 0xff, 0xff]), 320)).toThrow();
  });
});
