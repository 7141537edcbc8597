import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError, ModelLoadError } from '../../models/errors.js';
import { loadIntruderDetector, type IntruderDetectorOptions } from '../../models/intruder.js';
import { COCO80 } from '../../models/labels.js';
import type { DetectionResult } from '../../models/types.js';
import { fixture } from '../helpers/fixtures.js';
import { ModelCopies, ultralyticsNames } from './intruder-model-copies.js';

const MODEL = fixture('models/yolov8n-int8.onnx');
const busJpg = () => readFile(fixture('images/bus.jpg'));
const summary = (r: DetectionResult) => r.objects.map((o) => [o.class, o.confidence, o.bbox.xmin, o.bbox.ymin, o.bbox.xmax, o.bbox.ymax]);

async function detectOnce(modelPath: string, bytes: Uint8Array, options: IntruderDetectorOptions = {}) {
  const detector = await loadIntruderDetector(modelPath, { threads: 1, ...options });
  try {
    return { result: await detector.detect(bytes), classNames: detector.classNames, info: detector.info };
  } finally {
    await detector.close();
  }
}

async function loadError(modelPath: string, options: IntruderDetectorOptions = {}): Promise<Error> {
  const error = await loadIntruderDetector(modelPath, { threads: 1, ...options }).then(
    async (detector) => {
      await detector.close();
      return undefined;
    },
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe('loading intruder models', () => {
  let copies: ModelCopies;
  let reference: DetectionResult;

  beforeAll(async () => {
    copies = await ModelCopies.of(MODEL);
    reference = (await detectOnce(MODEL, await busJpg(), { allClasses: true })).result;
  });
  afterAll(async () => {
    await copies.cleanup();
  });

  it('refuses a missing file with a ModelLoadError naming it', async () => {
    const missing = join(copies.dir, 'missing.onnx');
    const error = await loadError(missing);
    expect(error).toBeInstanceOf(ModelLoadError);
    expect(error.message).toBe(`${missing}: cannot read the model file: no such file`);
  });

  it('refuses a file that is not ONNX', async () => {
    const path = await copies.save('photo.onnx', await busJpg());
    const error = await loadError(path);
    expect(error).toBeInstanceOf(ModelLoadError);
    expect(error.message).toMatch(new RegExp(`^${path}: not (an|a loadable) ONNX model \\(.+\\)$`));
  });

  it('refuses a model whose output does not fit, naming the expected and actual shape', async () => {
    const path = await copies.identityModel('image-to-image.onnx', [1, 3, 64, 64]);
    const error = await loadError(path);
    expect(error).toBeInstanceOf(ModelLoadError);
    expect(error.message).toBe(
      `${path}: output shape [1, 3, 64, 64] does not fit 80 classes: expected [1, 84, N] or [1, N, 84] (80 class names from the COCO-80 default)`,
    );
  });

  it('refuses a model whose input is not an image, naming the expected and actual shape', async () => {
    const path = await copies.identityModel('forecaster-like.onnx', [1, 60]);
    expect((await loadError(path)).message).toBe(`${path}: expected input float32 [1, 3, H, W], got float32 [1, 60]`);
  });

  it('refuses models of other tasks from their metadata', async () => {
    const path = await copies.withMetadata('segment.onnx', { set: { task: 'segment' } });
    expect((await loadError(path)).message).toBe(`${path}: expected a detection model (task 'detect'), got task 'segment'`);
  });

  it('takes class names from the names metadata', async () => {
    const renamed = COCO80.map((name) => (name === 'person' ? 'human' : name));
    const path = await copies.withMetadata('renamed.onnx', { set: { names: ultralyticsNames(renamed), name: 'garage-cam', version: '2024.06' } });
    const { result, classNames, info } = await detectOnce(path, await busJpg(), { classes: ['human'] });
    expect(classNames).toEqual(renamed);
    expect(info).toMatchObject({ name: 'garage-cam', version: '2024.06' });
    expect(result.objects.map((o) => o.class)).toEqual(['human', 'human', 'human']);
    // The default intruder classes include 'person', which this model no longer has.
    const error = await loadError(path);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toMatch(/^intruder classes 'person' are not classes of this model; it has: human, bicycle/);
  });

  it('refuses names metadata whose class count does not match the output', async () => {
    const path = await copies.withMetadata('three-names.onnx', { set: { names: ultralyticsNames(['person', 'dog', 'cat']) } });
    expect((await loadError(path, { classes: ['person'] })).message).toBe(
      `${path}: output shape [1, 84, 8400] does not fit 3 classes: expected [1, 7, N] or [1, N, 7] (3 class names from the names metadata)`,
    );
    const broken = await copies.withMetadata('broken-names.onnx', { set: { names: "{0: 'person'" } });
    expect((await loadError(broken)).message).toMatch(/^.*broken-names\.onnx: cannot get class names: names metadata: expected ',' or '\}'/);
  });

  it('without names metadata uses a labels file beside the model, else COCO-80', async () => {
    const path = await copies.withMetadata('unnamed.onnx', { remove: ['names', 'version'] });
    const plain = await detectOnce(path, await busJpg());
    expect(plain.classNames).toEqual(COCO80);
    expect(plain.info.version).toBe('unversioned');
    expect(summary(plain.result)).toEqual(summary(reference).filter(([cls]) => cls === 'person'));

    await copies.save('unnamed.labels.txt', COCO80.map((name) => name.toUpperCase()).join('\n'));
    const labelled = await detectOnce(path, await busJpg(), { classes: ['PERSON', 'BUS'] });
    expect(labelled.result.objects.map((o) => o.class).sort()).toEqual(['BUS', 'PERSON', 'PERSON', 'PERSON']);
  });

  it('decodes a transposed [1, 8400, 84] output to the same detections', async () => {
    const path = await copies.withTransposedOutput('transposed.onnx');
    const { result } = await detectOnce(path, await busJpg(), { allClasses: true });
    expect(summary(result)).toEqual(summary(reference));
  });

  it('runs a model with a dynamic input at the inputSize asked for (320); refuses it for a fixed input of another size', async () => {
    // Only the copy's declared input is dynamic: the fixture graph's DFL Reshape is fixed at 8400 anchors
    // (640x640), so a run at 320 fails inside onnxruntime; a real 320 export is needed to detect at 320.
    const dynamic = await copies.withDynamicInput('dynamic-320.onnx');
    const detector = await loadIntruderDetector(dynamic, { threads: 1, inputSize: 320 });
    await detector.close();
    expect(detector.inputSize).toEqual({ width: 320, height: 320 });
    const refused = await loadError(MODEL, { inputSize: 320 });
    expect(refused).toBeInstanceOf(ModelLoadError);
    expect(refused.message).toContain('cannot run at 320x320');
    await expect(loadIntruderDetector(MODEL, { inputSize: 300 })).rejects.toThrow(RangeError);
  });

  it('runs a model with a dynamic input size at its imgsz metadata, else 640', async () => {
    const dynamic = await copies.withDynamicInput('dynamic.onnx');
    const { result, info } = await detectOnce(dynamic, await busJpg(), { allClasses: true });
    expect(info.path).toBe(dynamic);
    expect(summary(result)).toEqual(summary(reference));
    const dynamicCopies = await ModelCopies.of(dynamic);
    try {
      const inputSize = async (path: string) => {
        const detector = await loadIntruderDetector(path, { threads: 1 });
        await detector.close();
        return detector.inputSize;
      };
      expect(await inputSize(dynamic)).toEqual({ width: 640, height: 640 });
      expect(await inputSize(await dynamicCopies.withMetadata('wide.onnx', { set: { imgsz: '[320, 480]' } }))).toEqual({ width: 480, height: 320 });
      expect(await inputSize(await dynamicCopies.withMetadata('no-imgsz.onnx', { remove: ['imgsz'] }))).toEqual({ width: 640, height: 640 });
      // A fixed input size wins over the metadata.
      expect(await inputSize(await copies.withMetadata('fixed.onnx', { set: { imgsz: '[320, 480]' } }))).toEqual({ width: 640, height: 640 });
    } finally {
      await dynamicCopies.cleanup();
    }
  });
});
