/**
 * Class names of a detection model: the COCO-80 default, Ultralytics' `names` metadata and labels files.
 */
import { readFile } from 'node:fs/promises';

/** The 80 COCO classes in the order Ultralytics' COCO-trained models output them. */
export const COCO80: readonly string[] = Object.freeze([
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
  'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow',
  'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee',
  'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard',
  'tennis racket', 'bottle', 'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple',
  'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch',
  'potted plant', 'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard',
  'cell phone', 'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors',
  'teddy bear', 'hair drier', 'toothbrush',
]);

const PY_ESCAPES: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r', '0': '\0' };

/**
 * Parses Ultralytics' `names` metadata: the Python `repr` of a dict from class index to name, e.g.
 * `{0: 'person', 1: "rock 'n' roll"}`. Indices must be 0..n-1 (in any order) so that index i is the
 * model's output channel 4+i. Throws an Error saying what is wrong.
 */
export function parseUltralyticsNames(text: string): string[] {
  const names: string[] = [];
  let pos = 0;
  const fail = (what: string): never => {
    throw new Error(`names metadata: ${what} at character ${pos} of ${JSON.stringify(text.slice(0, 80))}`);
  };
  const skipSpace = () => {
    while (pos < text.length && /\s/.test(text[pos] ?? '')) pos += 1;
  };
  const expect = (char: string) => {
    skipSpace();
    if (text[pos] !== char) fail(`expected '${char}'`);
    pos += 1;
  };
  const readQuoted = (): string => {
    const quote = text[pos];
    if (quote !== "'" && quote !== '"') return fail('expected a quoted class name');
    pos += 1;
    let out = '';
    while (pos < text.length && text[pos] !== quote) {
      const char = text[pos] ?? '';
      if (char !== '\\') {
        out += char;
        pos += 1;
        continue;
      }
      const code = text[pos + 1] ?? '';
      const hexLength = code === 'x' ? 2 : code === 'u' ? 4 : code === 'U' ? 8 : 0;
      if (hexLength > 0) {
        const hex = text.slice(pos + 2, pos + 2 + hexLength);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== hexLength) fail('bad escape');
        out += String.fromCodePoint(parseInt(hex, 16));
        pos += 2 + hexLength;
      } else {
        out += PY_ESCAPES[code] ?? fail('bad escape');
        pos += 2;
      }
    }
    if (pos >= text.length) fail('unterminated class name');
    pos += 1;
    return out;
  };

  expect('{');
  skipSpace();
  while (text[pos] !== '}') {
    skipSpace();
    const digits = /^\d+/.exec(text.slice(pos))?.[0] ?? fail('expected a class index');
    pos += digits.length;
    expect(':');
    skipSpace();
    const index = Number(digits);
    if (names[index] !== undefined) fail(`duplicate class index ${index}`);
    names[index] = readQuoted();
    skipSpace();
    if (text[pos] === ',') pos += 1;
    else if (text[pos] !== '}') fail("expected ',' or '}'");
    skipSpace();
  }
  pos += 1;
  skipSpace();
  if (pos !== text.length) fail('unexpected text after the dict');
  for (let i = 0; i < names.length; i += 1) {
    if (names[i] === undefined) throw new Error(`names metadata: class index ${i} is missing (indices must be 0..${names.length - 1})`);
  }
  return names;
}

/**
 * Reads a labels file: one class name per line in output-channel order (blank lines and surrounding
 * spaces ignored), or a JSON array of strings.
 */
export async function readLabelsFile(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8');
  if (text.trimStart().startsWith('[')) {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed) || !parsed.every((n) => typeof n === 'string' && n.trim() !== '')) {
      throw new Error(`${path}: a JSON labels file must be an array of non-empty strings`);
    }
    return parsed.map((n: string) => n.trim());
  }
  const names = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
  if (names.length === 0) throw new Error(`${path}: the labels file holds no class names`);
  return names;
}
