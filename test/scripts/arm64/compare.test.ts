import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadForecaster } from '../../../models/forecast.js';
import { loadIntruderDetector, type LoadedIntruderDetector } from '../../../models/intruder.js';
import type { Forecaster } from '../../../models/types.js';
import { BOX_TOLERANCE_PX, CONFIDENCE_TOLERANCE, compareDetections, compareForecasts } from '../../../scripts/arm64/compare.js';
import { fixture } from '../../helpers/fixtures.js';
import { testWindows } from '../../models/forecast-windows.js';

interface Line {
  image: string;
  intruder: boolean;
  objects: { class: string; confidence: number; bbox: { xmin: number; ymin: number; xmax: number; ymax: number } }[];
  total_objects: number;
}

const jsonLines = (lines: object[]) => lines.map((line) => JSON.stringify(line)).join('\n') + '\n';
const copy = (lines: Line[]): Line[] => structuredClone(lines);

describe('compareDetections', () => {
  let detector: LoadedIntruderDetector;
  /** What `edge-agent detect` prints for bus.jpg (three people) and person.jpg (a person and a dog). */
  let x86: Line[];

  beforeAll(async () => {
    detector = await loadIntruderDetector(fixture('models/yolov8n-int8.onnx'), { threads: 1 });
    x86 = [];
    for (const image of ['images/bus.jpg', 'images/person.jpg']) {
      const { intruder, objects, total_objects } = await detector.detect(await readFile(fixture(image)));
      x86.push({ image, intruder, objects, total_objects });
    }
  });
  afterAll(() => detector?.close());

  it('finds no difference between identical outputs and says what it compared', () => {
    const { differences, summary } = compareDetections(jsonLines(x86), jsonLines(x86));
    expect(differences).toEqual([]);
    expect(summary).toBe(`detect: 2 images, ${x86[0]!.objects.length + x86[1]!.objects.length} objects; largest box difference 0 px, confidence 0.0000`);
  });

  it('takes boxes and scores within the tolerance as the same, in either order', () => {
    const arm64 = copy(x86);
    const people = arm64[0]!.objects;
    people[0]!.bbox.xmin += BOX_TOLERANCE_PX;
    people[1]!.confidence -= CONFIDENCE_TOLERANCE;
    people.reverse();
    const { differences, summary } = compareDetections(jsonLines(x86), jsonLines(arm64));
    expect(differences).toEqual([]);
    expect(summary).toContain(`largest box difference ${BOX_TOLERANCE_PX} px, confidence ${CONFIDENCE_TOLERANCE.toFixed(4)}`);
  });

  it('names the image and both objects when a box moved further', () => {
    const arm64 = copy(x86);
    arm64[1]!.objects[0]!.bbox.ymax += BOX_TOLERANCE_PX + 1;
    const { differences } = compareDetections(jsonLines(x86), jsonLines(arm64));
    expect(differences).toHaveLength(1);
    expect(differences[0]).toMatch(/^images\/person\.jpg: x86 found person 0\.\d+ \[[\d,]+\], arm64 person 0\.\d+ \[[\d,]+\]$/);
  });

  it('reports an object of another class, a missing one and a changed intruder flag', () => {
    const arm64 = copy(x86);
    arm64[1]!.objects[1]!.class = 'cat';
    arm64[0]!.objects.pop();
    arm64[0]!.intruder = false;
    const { differences } = compareDetections(jsonLines(x86), jsonLines(arm64));
    expect(differences).toEqual([
      'images/bus.jpg: intruder is true on x86, false on arm64',
      expect.stringMatching(/^images\/bus\.jpg: x86 found person .*, arm64 did not$/),
      expect.stringMatching(/^images\/person\.jpg: x86 found dog .*, arm64 did not$/),
      expect.stringMatching(/^images\/person\.jpg: arm64 found cat .*, x86 did not$/),
    ]);
  });

  it('reports errors, missing results and lines that are not JSON', () => {
    const withError = [x86[0]!, { image: 'images/person.jpg', error: 'cannot decode the image' }];
    expect(compareDetections(jsonLines(x86), jsonLines(withError)).differences).toEqual(['images/person.jpg: x86 ok; arm64 cannot decode the image']);
    expect(compareDetections(jsonLines(x86), jsonLines([x86[0]!])).differences).toEqual(['x86 detect printed 2 results, arm64 1']);
    expect(compareDetections(jsonLines(x86), jsonLines(x86) + 'Segmentation fault\n').differences).toEqual(['arm64 detect line 3 is not JSON: Segmentation fault']);
    expect(compareDetections('', '').differences).toEqual(['x86 detect printed no result']);
  });

  it('reports images in a different order', () => {
    const { differences } = compareDetections(jsonLines(x86), jsonLines([...x86].reverse()));
    expect(differences).toEqual([
      'line order differs: x86 has images/bus.jpg, arm64 has images/person.jpg',
      'line order differs: x86 has images/person.jpg, arm64 has images/bus.jpg',
    ]);
  });
});

describe('compareForecasts', () => {
  let forecaster: Forecaster;
  let x86: { prediction_celsius: number }[];

  beforeAll(async () => {
    forecaster = await loadForecaster();
    const predictions = await forecaster.forecastBatch(testWindows().windows.slice(0, 5));
    x86 = predictions.map((prediction_celsius) => ({ prediction_celsius }));
  });
  afterAll(() => forecaster?.close());

  it('takes predictions equal to the printed 0.01 °C as the same', () => {
    const arm64 = x86.map((line, i) => ({ prediction_celsius: Number((line.prediction_celsius + (i % 2 === 0 ? 0.01 : -0.01)).toFixed(2)) }));
    expect(compareForecasts(jsonLines(x86), jsonLines(arm64))).toEqual({ differences: [], summary: 'forecast: 5 windows; largest difference 0.01 °C' });
  });

  it('names each window whose prediction differs more, and windows that failed', () => {
    const arm64: object[] = x86.map((line) => ({ ...line }));
    arm64[1] = { prediction_celsius: Number((x86[1]!.prediction_celsius + 0.02).toFixed(2)) };
    arm64[3] = { error: 'value at index 0 is not a number' };
    const { differences } = compareForecasts(jsonLines(x86), jsonLines(arm64));
    expect(differences).toEqual([
      `window 2: x86 predicts ${x86[1]!.prediction_celsius} °C, arm64 ${(arm64[1] as { prediction_celsius: number }).prediction_celsius} °C`,
      `window 4: x86 ${x86[3]!.prediction_celsius}; arm64 value at index 0 is not a number`,
    ]);
  });

  it('reports a different number of results', () => {
    expect(compareForecasts(jsonLines(x86), jsonLines(x86.slice(0, -1))).differences).toEqual(['x86 forecast printed 5 results, arm64 4']);
  });
});
