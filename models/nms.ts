/**
 * Class-aware greedy non-maximum suppression, as Ultralytics applies it: boxes are visited from the
 * highest score down; a box is dropped when its IoU with an already kept box of the SAME class is above
 * the threshold. Boxes of different classes never suppress each other.
 */

/** Ultralytics' `max_det`: more detections than this in one frame are noise, and NMS is quadratic. */
export const DEFAULT_MAX_DETECTIONS = 300;

/** Intersection over union of boxes i and j of a flat x1,y1,x2,y2 array; 0 when the union is empty. */
export function iou(boxes: Float32Array, i: number, j: number): number {
  const a = 4 * i;
  const b = 4 * j;
  const width = Math.min(boxes[a + 2]!, boxes[b + 2]!) - Math.max(boxes[a]!, boxes[b]!);
  const height = Math.min(boxes[a + 3]!, boxes[b + 3]!) - Math.max(boxes[a + 1]!, boxes[b + 1]!);
  if (width <= 0 || height <= 0) return 0;
  const intersection = width * height;
  const areaA = (boxes[a + 2]! - boxes[a]!) * (boxes[a + 3]! - boxes[a + 1]!);
  const areaB = (boxes[b + 2]! - boxes[b]!) * (boxes[b + 3]! - boxes[b + 1]!);
  const union = areaA + areaB - intersection;
  return union > 0 ? intersection / union : 0;
}

/**
 * Returns the indices of the kept boxes, highest score first (ties keep their input order).
 * `boxes` holds 4 values per box, `scores` and `classes` one per box.
 */
export function nonMaxSuppression(
  boxes: Float32Array,
  scores: Float32Array,
  classes: Int32Array,
  iouThreshold: number,
  maxDetections: number = DEFAULT_MAX_DETECTIONS,
): number[] {
  const count = scores.length;
  if (boxes.length !== 4 * count || classes.length !== count) {
    throw new RangeError(`nms: ${boxes.length / 4} boxes, ${count} scores and ${classes.length} classes do not match`);
  }
  const order = Array.from({ length: count }, (_, i) => i).sort((i, j) => scores[j]! - scores[i]! || i - j);
  const suppressed = new Uint8Array(count);
  const kept: number[] = [];
  for (let rank = 0; rank < count && kept.length < maxDetections; rank += 1) {
    const i = order[rank]!;
    if (suppressed[i]) continue;
    kept.push(i);
    for (let later = rank + 1; later < count; later += 1) {
      const j = order[later]!;
      if (!suppressed[j] && classes[j] === classes[i] && iou(boxes, i, j) > iouThreshold) suppressed[j] = 1;
    }
  }
  return kept;
}
