/**
 * The detector gives the same answer whether a frame arrives as the JPEG the fixture is, or as raw
 * yuv420 made from the same image (as rpicam-vid and ffmpeg now deliver frames): classes exact, boxes
 * within 4 px of the JPEG result and of the fixture README's references.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIntruderDetector, type LoadedIntruderDetector } from '../../models/intruder.js';
import type { DetectedObject } from '../../models/types.js';
import { toYuv420 } from '../drivers/camera/yuv420-fixtures.js';
import { fixture } from '../helpers/fixtures.js';

const MODEL = fixture('models/yolov8n-int8.onnx');
const BOX_TOLERANCE_PX = 4;

/** A stable order for comparing two runs: by class, then left edge. */
const ordered = (objects: DetectedObject[]) => [...objects].sort((a, b) => a.class.localeCompare(b.class) || a.bbox.xmin - b.bbox.xmin);

function expectBoxNear(actual: DetectedObject, expected: [number, number, number, number], what: string) {
  const { xmin, ymin, xmax, ymax } = actual.bbox;
  [xmin, ymin, xmax, ymax].forEach((value, i) => expect(Math.abs(value - expected[i]!), `${what}: ${JSON.stringify(actual.bbox)} vs ${expected}`).toBeLessThanOrEqual(BOX_TOLERANCE_PX));
}

describe('intruder detector: yuv420 frames against the same images as JPEG', () => {
  let detector: LoadedIntruderDetector;

  beforeAll(async () => {
    detector = await loadIntruderDetector(MODEL, { threads: 2, allClasses: true });
  });
  afterAll(() => detector.close());

  it("finds bus.jpg's reference detections in its yuv420 frame", async () => {
    const result = await detector.detect(await toYuv420(fixture('images/bus.jpg')));
    expect(result.image).toEqual({ width: 554, height: 740 });
    const people = ordered(result.objects.filter((o) => o.class === 'person'));
    expect(ordered(result.objects).map((o) => o.class)).toEqual(['bus', 'person', 'person', 'person']);
    expectBoxNear(people[0]!, [33, 270, 166, 620], 'left person');
    expectBoxNear(people[1]!, [151, 278, 234, 588], 'middle person');
    expectBoxNear(people[2]!, [461, 264, 553, 602], 'right person');
    expectBoxNear(result.objects.find((o) => o.class === 'bus')!, [13, 154, 545, 514], 'bus');
  });

  it.each(['bus.jpg', 'dog.jpg', 'person.jpg', 'cat.png', 'coffee.png'])('%s: the same classes and boxes within 4 px as from the JPEG', async (name) => {
    const path = fixture(`images/${name}`);
    const fromEncoded = await detector.detect(await readFile(path));
    const fromJpegFrame = await detector.detect({ format: 'jpeg', data: await readFile(path) });
    const fromYuv = await detector.detect(await toYuv420(path));
    expect(fromJpegFrame.objects).toEqual(fromEncoded.objects);
    const [jpeg, yuv] = [ordered(fromEncoded.objects), ordered(fromYuv.objects)];
    expect(yuv.map((o) => o.class)).toEqual(jpeg.map((o) => o.class));
    yuv.forEach((o, i) => {
      const { xmin, ymin, xmax, ymax } = jpeg[i]!.bbox;
      expectBoxNear(o, [xmin, ymin, xmax, ymax], `${name} ${o.class}`);
    });
    expect(fromYuv.image).toEqual(fromEncoded.image);
  });

  it('finds the same at camera resolution: bus.jpg at twice its size, where the planes are resized before conversion', async () => {
    // 1108x1480 is at least twice the 640 letterbox, so the detector resizes Y, U and V on their own.
    const result = await detector.detect(await toYuv420(fixture('images/bus.jpg'), { width: 1108, height: 1480 }));
    const halved = ordered(result.objects).map((o) => ({ ...o, bbox: { xmin: o.bbox.xmin / 2, ymin: o.bbox.ymin / 2, xmax: o.bbox.xmax / 2, ymax: o.bbox.ymax / 2 } }));
    expect(halved.map((o) => o.class)).toEqual(['bus', 'person', 'person', 'person']);
    expectBoxNear(halved[0]!, [13, 154, 545, 514], 'bus');
    expectBoxNear(halved[1]!, [33, 270, 166, 620], 'left person');
    expectBoxNear(halved[2]!, [151, 278, 234, 588], 'middle person');
    expectBoxNear(halved[3]!, [461, 264, 553, 602], 'right person');
  });

  it('refuses a yuv420 frame whose data does not match its size, naming both', async () => {
    await expect(detector.detect({ format: 'yuv420', width: 64, height: 48, data: new Uint8Array(100) })).rejects.toThrow(/yuv420 frame: 64x48 needs 4608 bytes, got 100/);
  });
});
