/**
 * The motion gate's thumbnail straight from a yuv420 frame's Y plane: each thumbnail pixel is the mean of
 * the luma samples of its cell. No sharp call, no copy of the plane: at 10 fps of a static 1280x720
 * scene the libvips round trip (a pipeline set up per frame for a 64x48 result) was most of the gate's CPU.
 *
 * It reads every luma byte of every frame (0.9 MB at 1280x720, ten times a second on a static scene), so
 * the loop is what the static scene's CPU is made of: each cell's part of a row is one contiguous run
 * summed into a local, and a cell's pixel count comes from its bounds instead of being counted pixel by
 * pixel (a per-pixel cell lookup and two typed-array increments made it 5x slower).
 */
import type { Yuv420Image } from '../../drivers/camera/index.js';

/**
 * Where each of `cells` cells starts along a side of `length` pixels, plus the end: pixel `p` is in cell
 * `floor(p * cells / length)`, so cell `c` covers [edges[c], edges[c + 1]) (empty when cells > length).
 */
function cellEdges(length: number, cells: number): Uint32Array {
  return Uint32Array.from({ length: cells + 1 }, (_, c) => Math.ceil((c * length) / cells));
}

/** `width` x `height` box-averaged grey pixels of the frame's Y plane (the plane comes first in yuv420). */
export function lumaThumbnail(image: Yuv420Image, width: number, height: number): Uint8Array {
  const { data } = image;
  const columns = cellEdges(image.width, width);
  const rows = cellEdges(image.height, height);
  const thumbnail = new Uint8Array(width * height);
  const sums = new Uint32Array(width);
  for (let cellRow = 0; cellRow < height; cellRow++) {
    sums.fill(0);
    for (let y = rows[cellRow]!; y < rows[cellRow + 1]!; y++) {
      const row = y * image.width;
      for (let column = 0; column < width; column++) {
        let sum = 0;
        const end = row + columns[column + 1]!;
        for (let i = row + columns[column]!; i < end; i++) sum += data[i]!;
        sums[column]! += sum;
      }
    }
    const cellHeight = rows[cellRow + 1]! - rows[cellRow]!;
    for (let column = 0; column < width; column++) {
      const count = cellHeight * (columns[column + 1]! - columns[column]!);
      // A frame smaller than the thumbnail leaves some cells without a pixel: black, not NaN.
      thumbnail[cellRow * width + column] = count === 0 ? 0 : Math.round(sums[column]! / count);
    }
  }
  return thumbnail;
}
