/**
 * Decoding of a YOLOv8/YOLO11 detection head: the output tensor [1, 4+nc, N] (or transposed
 * [1, N, 4+nc]) holds, per anchor, the box centre, width and height in input pixels and one score per
 * class. Everything here works on typed arrays: a frame has 8400 anchors x 84 values.
 */

export interface OutputLayout {
  /** True for [1, 4+nc, N] (Ultralytics' export), false for [1, N, 4+nc]. */
  channelsFirst: boolean;
  numClasses: number;
}

/** Candidates above the threshold: one best class per anchor, boxes as x1,y1,x2,y2 in input pixels. */
export interface Candidates {
  count: number;
  boxes: Float32Array;
  scores: Float32Array;
  classes: Int32Array;
}

type Dims = readonly (number | string)[];

function formatDims(dims: Dims): string {
  return `[${dims.join(', ')}]`;
}

/** The output shape the model must have for `numClasses` classes, for error messages. */
export function expectedOutputShape(numClasses: number): string {
  const channels = 4 + numClasses;
  return `[1, ${channels}, N] or [1, N, ${channels}]`;
}

/**
 * Finds which axis holds the 4+nc channels from the shape the model declares (numbers, or strings for
 * dynamic dimensions). Throws an Error naming the expected and the actual shape when neither fits.
 */
export function resolveOutputLayout(dims: Dims, numClasses: number): OutputLayout {
  const channels = 4 + numClasses;
  const batch = dims[0];
  const fail = (): never => {
    throw new Error(`output shape ${formatDims(dims)} does not fit ${numClasses} classes: expected ${expectedOutputShape(numClasses)}`);
  };
  if (dims.length !== 3 || (typeof batch === 'number' && batch !== 1)) fail();
  const [, a, b] = dims;
  if (a === channels) return { channelsFirst: true, numClasses };
  if (b === channels) return { channelsFirst: false, numClasses };
  // Exports fix the class axis even when the anchor axis is dynamic; if both are dynamic, assume
  // Ultralytics' layout here and let anchorCount() check the real output.
  if (typeof a === 'string' && typeof b === 'string') return { channelsFirst: true, numClasses };
  return fail();
}

/**
 * Checks the shape of an actual output (dynamic dimensions resolved) against the layout and returns the
 * number of anchors.
 */
export function anchorCount(dims: readonly number[], layout: OutputLayout): number {
  const channels = 4 + layout.numClasses;
  const [batch, a, b] = dims;
  const ok = dims.length === 3 && batch === 1 && (layout.channelsFirst ? a === channels : b === channels);
  if (!ok) throw new Error(`model produced an output of shape ${formatDims(dims)}, expected ${expectedOutputShape(layout.numClasses)}`);
  return (layout.channelsFirst ? b : a) ?? 0;
}

/**
 * Picks each anchor's best class and keeps the anchors whose score is at least `threshold` (> 0)
 * (the threshold is applied before NMS so that NMS sees tens of boxes, not thousands).
 */
export function decodeCandidates(output: Float32Array, dims: readonly number[], layout: OutputLayout, threshold: number): Candidates {
  if (!(threshold > 0)) throw new RangeError(`threshold must be > 0, got ${threshold}`);
  const anchors = anchorCount(dims, layout);
  const { numClasses } = layout;
  // Best score per anchor among the scores at or above the threshold (0 when none is).
  const best = new Float32Array(anchors);
  const bestClass = new Int32Array(anchors);
  if (layout.channelsFirst) {
    // Class by class, so that memory is read sequentially rather than with a stride of N floats. Nearly
    // every score is below the threshold, so the first comparison almost always ends the iteration.
    for (let k = 0; k < numClasses; k += 1) {
      const row = (4 + k) * anchors;
      for (let i = 0; i < anchors; i += 1) {
        const score = output[row + i]!;
        if (score >= threshold && score > best[i]!) {
          best[i] = score;
          bestClass[i] = k;
        }
      }
    }
  } else {
    for (let i = 0; i < anchors; i += 1) {
      const scores = i * (4 + numClasses) + 4;
      for (let k = 0; k < numClasses; k += 1) {
        const score = output[scores + k]!;
        if (score >= threshold && score > best[i]!) {
          best[i] = score;
          bestClass[i] = k;
        }
      }
    }
  }

  let count = 0;
  for (let i = 0; i < anchors; i += 1) if (best[i]! > 0) count += 1;
  const candidates: Candidates = { count, boxes: new Float32Array(4 * count), scores: new Float32Array(count), classes: new Int32Array(count) };
  // Offset of the anchor's first box value and the distance between its four box values.
  const boxStart = layout.channelsFirst ? (i: number) => i : (i: number) => i * (4 + numClasses);
  const boxStride = layout.channelsFirst ? anchors : 1;
  let n = 0;
  for (let i = 0; i < anchors; i += 1) {
    if (best[i] === 0) continue;
    const at = boxStart(i);
    const cx = output[at]!;
    const cy = output[at + boxStride]!;
    const halfW = output[at + 2 * boxStride]! / 2;
    const halfH = output[at + 3 * boxStride]! / 2;
    const box = 4 * n;
    candidates.boxes[box] = cx - halfW;
    candidates.boxes[box + 1] = cy - halfH;
    candidates.boxes[box + 2] = cx + halfW;
    candidates.boxes[box + 3] = cy + halfH;
    candidates.scores[n] = best[i]!;
    candidates.classes[n] = bestClass[i]!;
    n += 1;
  }
  return candidates;
}
