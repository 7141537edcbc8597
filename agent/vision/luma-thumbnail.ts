/**
 * The motion gate's thumbnail straight from a yuv420 frame's Y plane: each thumbnail pixel is the mean of
 * the luma samples of its cell. No sharp call, no copy of the plane: at 10 fps of a static 1280x720
 * scene the libvips round trip (a pipeline set up per frame for a 64x48 result) was most of the gate's CPU.
 *
 * It reads every luma byte of every frame (0.9 MB at 1280x720, ten times a second on a static scene), so
 * the loop is what the static scene's CPU is made of: each cell's part of a row is one contiguous run,
 * summed four bytes a read (RunSums), and a cell's pixel count comes from its bounds instead of being
 * counted pixel by pixel. 1280x720 to 64x48 on the development machine: 6.7 ms with a per-pixel cell
 * lookup and two typed-array increments, 1.3 ms summing runs byte by byte, 0.55 ms four bytes a read.
 *
 * And it reads only some rows: a cell of 1280x720 at 64x48 is 15 rows of 20 pixels, and the mean of 5
 * of those rows (every third) is as steady against sensor noise as the gate needs (100 samples; a change
 * counts from 25 grey levels), for a third of the memory read: that loop was over half of a static
 * scene's CPU. Rows, not columns, are skipped, because a row's run is what is read four bytes at a time
 * and a skipped row is memory never touched. A cell keeps at least MIN_ROWS_PER_CELL rows; a thin
 * horizontal line may fall between them, a person or an animal cannot.
 */
import type { Yuv420Image } from '../../drivers/camera/index.js';

/** Rows read per cell at least: every k-th row from the cell's first, k = floor(rows per cell / this). */
const MIN_ROWS_PER_CELL = 4;

/** Every how many rows a cell is sampled, for a frame `height` rows high cut into `cells` cell rows. */
export function sampledRowStep(height: number, cells: number): number {
  return Math.max(1, Math.floor(Math.floor(height / cells) / MIN_ROWS_PER_CELL));
}

/**
 * Where each of `cells` cells starts along a side of `length` pixels, plus the end: pixel `p` is in cell
 * `floor(p * cells / length)`, so cell `c` covers [edges[c], edges[c + 1]) (empty when cells > length).
 */
function cellEdges(length: number, cells: number): Uint32Array {
  return Uint32Array.from({ length: cells + 1 }, (_, c) => Math.ceil((c * length) / cells));
}

/**
 * Sums of runs of bytes, four bytes a read: `word & 0x00ff00ff` holds bytes 0 and 2 of a 32-bit word in
 * two 16-bit lanes, `(word >>> 8) & 0x00ff00ff` bytes 1 and 3, so two adds take four pixels. Exact: the
 * lanes are emptied into the total before one could carry into the other. The bytes of a run outside
 * whole aligned words (a Uint32Array cannot start mid-word) are added one by one.
 */
class RunSums {
  private readonly words: Uint32Array;
  /** Where `bytes` starts within its first word (0..3). */
  private readonly skew: number;

  constructor(private readonly bytes: Uint8Array) {
    this.skew = bytes.byteOffset & 3;
    const firstWord = bytes.byteOffset - this.skew;
    this.words = new Uint32Array(bytes.buffer, firstWord, (bytes.byteOffset + bytes.length - firstWord) >> 2);
  }

  /** The sum of bytes [from, to). */
  sum(from: number, to: number): number {
    const { bytes, words, skew } = this;
    let total = 0;
    let i = from;
    for (; i < to && ((i + skew) & 3) !== 0; i++) total += bytes[i]!;
    let lanes = 0;
    let wordsInLanes = 0;
    for (; i + 4 <= to; i += 4) {
      const word = words[(i + skew) >> 2]!;
      lanes += (word & 0x00ff00ff) + ((word >>> 8) & 0x00ff00ff);
      // 32 words put at most 32 x 510 in a lane: the upper lane stays below 2^30, a small integer for V8.
      if (++wordsInLanes === 32) {
        total += (lanes & 0xffff) + (lanes >>> 16);
        lanes = 0;
        wordsInLanes = 0;
      }
    }
    total += (lanes & 0xffff) + (lanes >>> 16);
    for (; i < to; i++) total += bytes[i]!;
    return total;
  }
}

/**
 * `width` x `height` box-averaged grey pixels of the frame's Y plane (the plane comes first in yuv420):
 * each the mean of its cell's sampled rows (`sampledRowStep`).
 */
export function lumaThumbnail(image: Yuv420Image, width: number, height: number): Uint8Array {
  const runs = new RunSums(image.data);
  const columns = cellEdges(image.width, width);
  const rows = cellEdges(image.height, height);
  const thumbnail = new Uint8Array(width * height);
  const sums = new Uint32Array(width);
  const step = sampledRowStep(image.height, height);
  for (let cellRow = 0; cellRow < height; cellRow++) {
    sums.fill(0);
    for (let y = rows[cellRow]!; y < rows[cellRow + 1]!; y += step) {
      const row = y * image.width;
      for (let column = 0; column < width; column++) sums[column]! += runs.sum(row + columns[column]!, row + columns[column + 1]!);
    }
    const cellHeight = Math.ceil((rows[cellRow + 1]! - rows[cellRow]!) / step);
    for (let column = 0; column < width; column++) {
      const count = cellHeight * (columns[column + 1]! - columns[column]!);
      // A frame smaller than the thumbnail leaves some cells without a pixel: black, not NaN.
      thumbnail[cellRow * width + column] = count === 0 ? 0 : Math.round(sums[column]! / count);
    }
  }
  return thumbnail;
}
