/**
 * Motion regions, as Frigate builds them on CPUs: the motion gate's changed thumbnail cells are grouped
 * into boxes, each box is padded and grown into a square of at least `minSide` (the model's input size,
 * or a fraction of it: the model then sees a small moving thing enlarged, never shrunk with a whole
 * frame), squares that overlap are merged, and when the squares would cover most of the frame the
 * caller runs the full frame.
 * Pure code: no pixels, only rectangles.
 */

/** A rectangle in frame pixels; x and y are even (a yuv420 crop needs whole chroma samples). */
export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The gate's changed-cell map: 1 for a thumbnail pixel that changed, row by row. */
export interface ChangedCells {
  cells: Uint8Array;
  width: number;
  height: number;
}

export interface RegionOptions {
  /** Smallest side of a region, in frame pixels (the model's input size times `intruder.regions.min_size`). */
  minSide: number;
  /** Cells added around each cluster: a moving person's edges change less than its middle. */
  paddingCells?: number;
  /** When the regions cover this fraction of the frame or more, run the full frame instead (null). */
  fullFrameFraction?: number;
}

const DEFAULT_PADDING_CELLS = 1;
/** Past this, several crops cost more than one full-frame run and see little more. */
const DEFAULT_FULL_FRAME_FRACTION = 0.6;

interface CellBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Bounding boxes (inclusive cell coordinates) of the 8-connected clusters of changed cells. */
export function changedClusters(changed: ChangedCells): CellBox[] {
  const { cells, width, height } = changed;
  const seen = new Uint8Array(cells.length);
  const boxes: CellBox[] = [];
  const stack: number[] = [];
  for (let start = 0; start < cells.length; start++) {
    if (!cells[start] || seen[start]) continue;
    const box = { x0: width, y0: height, x1: -1, y1: -1 };
    seen[start] = 1;
    stack.push(start);
    while (stack.length > 0) {
      const index = stack.pop()!;
      const x = index % width;
      const y = (index - x) / width;
      box.x0 = Math.min(box.x0, x);
      box.y0 = Math.min(box.y0, y);
      box.x1 = Math.max(box.x1, x);
      box.y1 = Math.max(box.y1, y);
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const next = ny * width + nx;
          if (cells[next] && !seen[next]) {
            seen[next] = 1;
            stack.push(next);
          }
        }
      }
    }
    boxes.push(box);
  }
  return boxes;
}

const even = (value: number) => 2 * Math.floor(value / 2);
const evenUp = (value: number) => 2 * Math.ceil(value / 2);

/**
 * A square of side max(box's longer side, minSide) centred on the box, moved (not cut) to lie inside the
 * frame; a side longer than the frame's is cut to it (then the region is a rectangle).
 */
export function squareAround(x0: number, y0: number, x1: number, y1: number, minSide: number, frameWidth: number, frameHeight: number): Region {
  const side = Math.max(x1 - x0, y1 - y0, minSide);
  const width = Math.min(evenUp(side), even(frameWidth));
  const height = Math.min(evenUp(side), even(frameHeight));
  const place = (low: number, high: number, size: number, limit: number) => even(Math.min(Math.max(0, (low + high - size) / 2), limit - size));
  return { x: place(x0, x1, width, frameWidth), y: place(y0, y1, height, frameHeight), width, height };
}

function overlap(a: Region, b: Region): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** Merges overlapping regions into squares around their union until none overlap. */
function mergeOverlapping(regions: Region[], minSide: number, frameWidth: number, frameHeight: number): Region[] {
  const merged = [...regions];
  for (let i = 0; i < merged.length; i++) {
    for (let j = i + 1; j < merged.length; j++) {
      const a = merged[i]!;
      const b = merged[j]!;
      if (!overlap(a, b)) continue;
      const x0 = Math.min(a.x, b.x);
      const y0 = Math.min(a.y, b.y);
      const x1 = Math.max(a.x + a.width, b.x + b.width);
      const y1 = Math.max(a.y + a.height, b.y + b.height);
      merged[i] = squareAround(x0, y0, x1, y1, minSide, frameWidth, frameHeight);
      merged.splice(j, 1);
      // The grown square may now overlap regions already passed: start over from the first.
      i = -1;
      break;
    }
  }
  return merged;
}

/**
 * The regions to run the model on for a frame of `frameWidth` x `frameHeight` whose changed cells are
 * `changed`; null when the full frame should run instead (no change, or regions covering most of it).
 */
export function motionRegions(changed: ChangedCells, frameWidth: number, frameHeight: number, options: RegionOptions): Region[] | null {
  const padding = options.paddingCells ?? DEFAULT_PADDING_CELLS;
  const cellWidth = frameWidth / changed.width;
  const cellHeight = frameHeight / changed.height;
  const squares = changedClusters(changed).map((box) =>
    squareAround(
      Math.max(0, (box.x0 - padding) * cellWidth),
      Math.max(0, (box.y0 - padding) * cellHeight),
      Math.min(frameWidth, (box.x1 + 1 + padding) * cellWidth),
      Math.min(frameHeight, (box.y1 + 1 + padding) * cellHeight),
      options.minSide,
      frameWidth,
      frameHeight,
    ),
  );
  if (squares.length === 0) return null;
  const regions = mergeOverlapping(squares, options.minSide, frameWidth, frameHeight);
  const area = regions.reduce((sum, r) => sum + r.width * r.height, 0);
  if (area >= (options.fullFrameFraction ?? DEFAULT_FULL_FRAME_FRACTION) * frameWidth * frameHeight) return null;
  return regions;
}
