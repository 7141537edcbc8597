/**
 * Compares what `edge-agent detect` and `edge-agent forecast --batch` printed on x86-64 with what they
 * printed under arm64 emulation, line by line (JSON lines, in input order). Used by scripts/arm64-check.sh.
 */
import type { BoundingBox, DetectedObject } from '../../models/types.js';

/**
 * Largest box corner difference taken as "the same box", in original-image pixels. onnxruntime's arm64
 * (NEON) and x86-64 (AVX2) int8 kernels may round differently; the fixture README measured boxes moving
 * by a pixel or two between thread counts.
 */
export const BOX_TOLERANCE_PX = 2;
/** Largest confidence difference taken as "the same score" (the fixture README: about +-0.01). */
export const CONFIDENCE_TOLERANCE = 0.01;
/** Forecasts are printed rounded to 0.01 °C: a float difference can flip the last digit, never more. */
export const FORECAST_TOLERANCE_C = 0.01;
/** Room for the binary representation of decimal numbers when comparing against a tolerance. */
const EPSILON = 1e-9;

export interface Comparison {
  /** One line per difference, naming the input and what differs; empty when the two runs agree. */
  differences: string[];
  /** What was compared, for the verdict line. */
  summary: string;
}

interface DetectionLine {
  image?: string;
  error?: string;
  intruder?: boolean;
  objects?: DetectedObject[];
  total_objects?: number;
}

interface ForecastLine {
  prediction_celsius?: number;
  error?: string;
}

/** JSON lines (blank lines ignored); a line that is not JSON is a difference of its own. */
export function parseJsonLines<T>(text: string, label: string): { lines: T[]; errors: string[] } {
  const lines: T[] = [];
  const errors: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      lines.push(JSON.parse(line) as T);
    } catch {
      errors.push(`${label} line ${i + 1} is not JSON: ${line.slice(0, 120)}`);
    }
  });
  return { lines, errors };
}

function boxDistance(a: BoundingBox, b: BoundingBox): number {
  return Math.max(Math.abs(a.xmin - b.xmin), Math.abs(a.ymin - b.ymin), Math.abs(a.xmax - b.xmax), Math.abs(a.ymax - b.ymax));
}

function describe(object: DetectedObject): string {
  const { xmin, ymin, xmax, ymax } = object.bbox;
  return `${object.class} ${object.confidence} [${xmin},${ymin},${xmax},${ymax}]`;
}

interface ObjectStats {
  maxBoxPx: number;
  maxConfidence: number;
}

/**
 * Pairs each x86 object with the closest unpaired arm64 object of the same class: two objects whose
 * scores differ by less than the tolerance may come out in either order.
 */
function compareObjects(image: string, x86: DetectedObject[], arm64: DetectedObject[], stats: ObjectStats): string[] {
  const differences: string[] = [];
  const unpaired = [...arm64];
  for (const expected of x86) {
    let best = -1;
    for (let i = 0; i < unpaired.length; i++) {
      const candidate = unpaired[i]!;
      if (candidate.class !== expected.class) continue;
      if (best === -1 || boxDistance(candidate.bbox, expected.bbox) < boxDistance(unpaired[best]!.bbox, expected.bbox)) best = i;
    }
    if (best === -1) {
      differences.push(`${image}: x86 found ${describe(expected)}, arm64 did not`);
      continue;
    }
    const [found] = unpaired.splice(best, 1) as [DetectedObject];
    const boxPx = boxDistance(found.bbox, expected.bbox);
    const confidence = Math.abs(found.confidence - expected.confidence);
    stats.maxBoxPx = Math.max(stats.maxBoxPx, boxPx);
    stats.maxConfidence = Math.max(stats.maxConfidence, confidence);
    if (boxPx > BOX_TOLERANCE_PX + EPSILON || confidence > CONFIDENCE_TOLERANCE + EPSILON) {
      differences.push(`${image}: x86 found ${describe(expected)}, arm64 ${describe(found)}`);
    }
  }
  for (const extra of unpaired) differences.push(`${image}: arm64 found ${describe(extra)}, x86 did not`);
  return differences;
}

function compareDetectionLine(x86: DetectionLine, arm64: DetectionLine, stats: ObjectStats): string[] {
  const image = x86.image ?? '(no image)';
  if (x86.image !== arm64.image) return [`line order differs: x86 has ${image}, arm64 has ${arm64.image ?? '(no image)'}`];
  // A fixture image that does not decode is a failure even when both sides agree on it.
  if (x86.error !== undefined || arm64.error !== undefined) {
    return [`${image}: x86 ${x86.error ?? 'ok'}; arm64 ${arm64.error ?? 'ok'}`];
  }
  const differences: string[] = [];
  if (x86.intruder !== arm64.intruder) differences.push(`${image}: intruder is ${x86.intruder} on x86, ${arm64.intruder} on arm64`);
  if (x86.total_objects !== arm64.total_objects) {
    differences.push(`${image}: total_objects is ${x86.total_objects} on x86, ${arm64.total_objects} on arm64`);
  }
  return [...differences, ...compareObjects(image, x86.objects ?? [], arm64.objects ?? [], stats)];
}

/** Both outputs parsed and paired line by line, with what is wrong with their shape (not JSON, counts). */
function pairOutputs<T>(x86Text: string, arm64Text: string, command: string): { x86: T[]; pairs: [T, T][]; differences: string[] } {
  const x86 = parseJsonLines<T>(x86Text, `x86 ${command}`);
  const arm64 = parseJsonLines<T>(arm64Text, `arm64 ${command}`);
  const differences = [...x86.errors, ...arm64.errors];
  if (x86.lines.length === 0) differences.push(`x86 ${command} printed no result`);
  if (x86.lines.length !== arm64.lines.length) differences.push(`x86 ${command} printed ${x86.lines.length} results, arm64 ${arm64.lines.length}`);
  const pairs = x86.lines.slice(0, arm64.lines.length).map((line, i): [T, T] => [line, arm64.lines[i]!]);
  return { x86: x86.lines, pairs, differences };
}

/** `edge-agent detect` output: same images, intruder flags, object counts, classes; boxes and scores within tolerance. */
export function compareDetections(x86Text: string, arm64Text: string): Comparison {
  const { x86, pairs, differences } = pairOutputs<DetectionLine>(x86Text, arm64Text, 'detect');
  const stats: ObjectStats = { maxBoxPx: 0, maxConfidence: 0 };
  for (const [a, b] of pairs) differences.push(...compareDetectionLine(a, b, stats));
  const objects = x86.reduce((sum, line) => sum + (line.objects?.length ?? 0), 0);
  return {
    differences,
    summary: `detect: ${x86.length} images, ${objects} objects; largest box difference ${stats.maxBoxPx} px, confidence ${stats.maxConfidence.toFixed(4)}`,
  };
}

/** `edge-agent forecast --batch` output: one prediction per window, equal within the printed rounding. */
export function compareForecasts(x86Text: string, arm64Text: string): Comparison {
  const { x86, pairs, differences } = pairOutputs<ForecastLine>(x86Text, arm64Text, 'forecast');
  let largest = 0;
  pairs.forEach(([x86Line, arm64Line], i) => {
    const a = x86Line.prediction_celsius;
    const b = arm64Line.prediction_celsius;
    if (typeof a !== 'number' || typeof b !== 'number') {
      differences.push(`window ${i + 1}: x86 ${x86Line.error ?? a}; arm64 ${arm64Line.error ?? b}`);
      return;
    }
    largest = Math.max(largest, Math.abs(a - b));
    if (Math.abs(a - b) > FORECAST_TOLERANCE_C + EPSILON) differences.push(`window ${i + 1}: x86 predicts ${a} °C, arm64 ${b} °C`);
  });
  return { differences, summary: `forecast: ${x86.length} windows; largest difference ${largest.toFixed(2)} °C` };
}
