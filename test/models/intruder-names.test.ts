import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COCO80, parseUltralyticsNames, readLabelsFile } from '../../models/labels.js';
import { resolveClassNames, sidecarLabelsPath } from '../../models/yolo-model.js';

describe('COCO80', () => {
  it('has the 80 classes with the intruder classes at their Ultralytics indices', () => {
    expect(COCO80).toHaveLength(80);
    expect([COCO80[0], COCO80[15], COCO80[16], COCO80[21], COCO80[79]]).toEqual(['person', 'cat', 'dog', 'bear', 'toothbrush']);
  });
});

describe('parseUltralyticsNames', () => {
  it("parses Python's dict repr, including double-quoted names and escapes", () => {
    expect(parseUltralyticsNames("{0: 'person', 1: \"rock 'n' roll\", 2: 'a\\\\b', 3: 'caf\\xe9'}")).toEqual([
      'person',
      "rock 'n' roll",
      'a\\b',
      'café',
    ]);
  });

  it('orders names by index, whatever their order in the text', () => {
    expect(parseUltralyticsNames("{1: 'dog',0:'cat' , }")).toEqual(['cat', 'dog']);
    expect(parseUltralyticsNames('{}')).toEqual([]);
  });

  it('refuses malformed metadata with a message saying what is wrong', () => {
    expect(() => parseUltralyticsNames("{0: 'person', 2: 'dog'}")).toThrow('class index 1 is missing');
    expect(() => parseUltralyticsNames("{0: 'a', 0: 'b'}")).toThrow(/duplicate class index 0/);
    expect(() => parseUltralyticsNames("['person']")).toThrow(/expected '\{'/);
    expect(() => parseUltralyticsNames("{0: 'person'")).toThrow(/expected ',' or '\}'/);
    expect(() => parseUltralyticsNames("{0: 'person")).toThrow(/unterminated class name/);
    expect(() => parseUltralyticsNames("{0: 'x'} extra")).toThrow(/unexpected text after the dict/);
  });
});

describe('labels files and the order of name sources', () => {
  let dir: string;
  const model = () => join(dir, 'yolo.onnx');
  const metadata = { names: "{0: 'intruder', 1: 'pet'}" };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edge-agent-labels-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads one name per line (blank lines and spaces ignored) or a JSON array', async () => {
    await writeFile(join(dir, 'lines.txt'), 'person\r\n\n  forklift  \nsafety vest\n');
    await writeFile(join(dir, 'array.json'), '["person", "forklift"]');
    expect(await readLabelsFile(join(dir, 'lines.txt'))).toEqual(['person', 'forklift', 'safety vest']);
    expect(await readLabelsFile(join(dir, 'array.json'))).toEqual(['person', 'forklift']);
  });

  it('refuses empty labels files and JSON that is not an array of strings', async () => {
    await writeFile(join(dir, 'empty.txt'), '\n \n');
    await writeFile(join(dir, 'bad.json'), '[1, 2]');
    await expect(readLabelsFile(join(dir, 'empty.txt'))).rejects.toThrow(/holds no class names/);
    await expect(readLabelsFile(join(dir, 'bad.json'))).rejects.toThrow(/must be an array of non-empty strings/);
  });

  it('prefers an explicit labels file, then names metadata, then the sidecar file, then COCO-80', async () => {
    expect(sidecarLabelsPath(model())).toBe(join(dir, 'yolo.labels.txt'));
    await writeFile(join(dir, 'explicit.txt'), 'a\nb\n');
    expect(await resolveClassNames(model(), metadata, join(dir, 'explicit.txt'))).toEqual({ names: ['a', 'b'], source: `labels file ${join(dir, 'explicit.txt')}` });
    expect((await resolveClassNames(model(), {}, undefined)).source).toBe('COCO-80 default');
    await writeFile(sidecarLabelsPath(model()), 'forklift\n');
    expect(await resolveClassNames(model(), metadata)).toEqual({ names: ['intruder', 'pet'], source: 'names metadata' });
    expect((await resolveClassNames(model(), {})).names).toEqual(['forklift']);
  });
});
