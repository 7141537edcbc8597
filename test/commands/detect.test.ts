import { execFileSync } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashFile, ModelRegistry } from '../../agent/ota/registry.js';
import { edgeAgent } from '../helpers/cli.js';
import { fixture } from '../helpers/fixtures.js';
import { decompressionBombPng } from '../models/intruder-images.js';
import { ModelCopies } from '../models/intruder-model-copies.js';

const MODEL = fixture('models/yolov8n-int8.onnx');
const BUS = fixture('images/bus.jpg');
const CAT = fixture('images/cat.png');

const detect = (...args: string[]) => edgeAgent(['detect', '--threads', '1', ...args]);

const jsonLines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('edge-agent detect', () => {
  let dir: string;
  let copies: ModelCopies;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edge-agent-detect-'));
    copies = await ModelCopies.of(MODEL);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await copies.cleanup();
  });

  it('prints one JSON line per image with intruders, objects, total and timings', async () => {
    const result = await detect('--model', MODEL, BUS, CAT);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const [bus, cat] = jsonLines(result.stdout);
    expect(Object.keys(bus!)).toEqual(['image', 'intruder', 'objects', 'total_objects', 'timings_ms']);
    expect(bus).toMatchObject({ image: BUS, intruder: true, total_objects: 4 });
    expect((bus!.objects as { class: string }[]).map((o) => o.class)).toEqual(['person', 'person', 'person']);
    expect(Object.keys(bus!.timings_ms as object)).toEqual(['decode', 'inference', 'postprocess', 'total']);
    expect(cat).toMatchObject({ image: CAT, intruder: true, objects: [{ class: 'cat' }] });
  });

  it('gives each bad image an error line, still runs the others, and exits 1', async () => {
    const bytes = await readFile(BUS);
    const files = {
      empty: join(dir, 'empty.jpg'),
      truncated: join(dir, 'truncated.jpg'),
      text: join(dir, 'notes.jpg'),
      bomb: join(dir, 'bomb.png'),
    };
    await writeFile(files.empty, '');
    await writeFile(files.truncated, bytes.subarray(0, bytes.length / 3));
    await writeFile(files.text, 'not an image');
    await writeFile(files.bomb, decompressionBombPng(20_000, 20_000));
    const missing = join(dir, 'missing.jpg');
    const result = await detect('--model', MODEL, files.empty, files.truncated, BUS, files.text, files.bomb, missing);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('');
    const lines = jsonLines(result.stdout);
    expect(lines.map((l) => l.image)).toEqual([files.empty, files.truncated, BUS, files.text, files.bomb, missing]);
    expect(lines[0]).toEqual({ image: files.empty, error: 'empty image (0 bytes)' });
    expect(lines[1]!.error).toMatch(/^cannot decode the jpeg image/);
    expect(lines[2]).toMatchObject({ intruder: true, total_objects: 4 });
    expect(lines[3]!.error).toMatch(/^not a decodable image/);
    expect(lines[4]!.error).toMatch(/^image is 20000x20000 \(400000000 pixels\), over the limit/);
    expect(lines[5]).toEqual({ image: missing, error: 'cannot read the file: no such file' });
  });

  it('refuses a model of the wrong shape with one stderr line naming the file and both shapes, exit 66', async () => {
    const wrong = await copies.identityModel('wrong-shape.onnx', [1, 3, 64, 64]);
    const result = await detect('--model', wrong, BUS);
    expect(result.code).toBe(66);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `edge-agent detect: ${wrong}: output shape [1, 3, 64, 64] does not fit 80 classes: expected [1, 84, N] or [1, N, 84] (80 class names from the COCO-80 default)\n`,
    );
  });

  it('refuses a missing or non-ONNX model file with exit 66', async () => {
    const missing = await detect('--model', join(dir, 'nope.onnx'), BUS);
    expect(missing).toMatchObject({ code: 66, stderr: `edge-agent detect: ${join(dir, 'nope.onnx')}: cannot read the model file: no such file\n` });
    const notOnnx = await detect('--model', BUS, BUS);
    expect(notOnnx.code).toBe(66);
    expect(notOnnx.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('takes the intruder classes and threshold from the command line', async () => {
    const [classes, all] = await Promise.all([
      detect('--model', MODEL, '--classes', 'bus, cat', '--threshold', '0.3', '--repeat', '2', BUS),
      detect('--model', MODEL, '--all-classes', BUS),
    ]);
    expect(classes.code).toBe(0);
    const lines = jsonLines(classes.stdout);
    expect(lines).toHaveLength(1);
    expect((lines[0]!.objects as { class: string }[]).map((o) => o.class)).toEqual(['bus']);
    expect(lines[0]!.total_objects).toBe(5); // the 0.34 person counts at 0.3

    const everything = jsonLines(all.stdout)[0]!;
    expect((everything.objects as { class: string }[]).map((o) => o.class).sort()).toEqual(['bus', 'person', 'person', 'person']);
  });

  it('refuses unknown classes and bad option values as usage errors (exit 2) that say why', async () => {
    const [unknown, threshold, repeat, noImage, help] = await Promise.all([
      detect('--model', MODEL, '--classes', 'person,unicorn', BUS),
      detect('--model', MODEL, '--threshold', '1.5', BUS),
      detect('--model', MODEL, '--repeat', '0', BUS),
      detect('--model', MODEL),
      detect('--help'),
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: edge-agent detect \[--model FILE\]/);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^edge-agent detect: intruder classes 'unicorn' are not classes of this model; it has: person, bicycle, .*toothbrush\n$/);
    expect(threshold).toMatchObject({ code: 2, stderr: 'edge-agent detect: --threshold: must be <= 1 (intruder.threshold), got "1.5"\n' });
    expect(repeat).toMatchObject({ code: 2, stderr: 'edge-agent detect: --repeat: invalid value "0"\n' });
    expect(noImage).toMatchObject({ code: 2, stderr: 'edge-agent detect: no IMAGE given (see edge-agent detect --help)\n' });
  });

  it('checks the options that stand for configuration keys against the configuration\'s ranges', async () => {
    const [threads, fraction, repeat] = await Promise.all([
      detect('--model', MODEL, '--threads', '1000', BUS),
      edgeAgent(['detect', '--model', MODEL, '--threads', '1.5', BUS]),
      detect('--model', MODEL, '--repeat', '1e9', BUS),
    ]);
    expect(threads).toMatchObject({ code: 2, stdout: '', stderr: 'edge-agent detect: --threads: must be <= 64 (intruder.threads), got "1000"\n' });
    expect(fraction).toMatchObject({ code: 2, stderr: 'edge-agent detect: --threads: must be a whole number (intruder.threads), got "1.5"\n' });
    expect(repeat).toMatchObject({ code: 2, stderr: 'edge-agent detect: --repeat: invalid value "1e9"\n' });
  });

  it('reads only regular files: a device or a FIFO is refused at once, not read without end or waited on', async () => {
    const fifo = join(dir, 'image.fifo');
    execFileSync('mkfifo', [fifo]);
    const [model, images] = await Promise.all([detect('--model', '/dev/zero', BUS), detect('--model', MODEL, '/dev/zero', fifo, BUS)]);
    expect(model).toMatchObject({ code: 66, stdout: '', stderr: 'edge-agent detect: --model: /dev/zero is a character device, not a regular file\n' });
    expect(images.code, images.stderr).toBe(1);
    const lines = jsonLines(images.stdout);
    expect(lines[0]).toEqual({ image: '/dev/zero', error: 'cannot read the file: it is a character device, not a regular file' });
    expect(lines[1]).toEqual({ image: fifo, error: 'cannot read the file: it is a FIFO, not a regular file' });
    expect(lines[2]).toMatchObject({ image: BUS, intruder: true });
  });

  it("without --model uses the registry's active intruder model, and says how to get one when there is none", async () => {
    const empty = await detect('--data-dir', join(dir, 'no-data'), BUS);
    expect(empty.code).toBe(66);
    expect(empty.stderr).toMatch(/no --model given and no intruder model is active in .*no-data\/models \(pass --model FILE/);

    const dataDir = join(dir, 'data');
    const registry = new ModelRegistry({ dataDir, keepVersions: 1 });
    const download = await registry.newTempFile();
    await copyFile(MODEL, download);
    const { sha256, size } = await hashFile(download);
    await registry.install('intruder', download, { name: 'yolov8n', version: '1.0.0', sha256, size, source: 'file://test' });
    await registry.activate('intruder', '1.0.0');
    const result = await detect('--data-dir', dataDir, CAT);
    expect(result.code).toBe(0);
    expect(jsonLines(result.stdout)[0]).toMatchObject({ intruder: true, objects: [{ class: 'cat' }] });
  });
});
