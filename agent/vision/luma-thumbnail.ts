/**
 * The motion gate's thumbnail straight from a yuv420 frame's Y plane: each thumbnail pixel is the mean of
 * the luma samples of its cell. No sharp call, no copy of the plane: at 10 fps of a static 1280x720
 * scene the libvips round trip (a pipeline set up per frame for a 64x48 result) was most of the gate's CPU.
 */
import type { Yuv420Image } from '../../drivers/camera/index.js';

/** `width` x `height` box-averaged grey pixels of the frame's Y plane (the plane comes first in yuv420). */
export function lumaThumbnail(image: Yuv420Image, width: number, height: number): Uint8Array {
  const sums = new Uint32Array(width * height);
  const counts = new Uint32Array(width * height);
  const columnCell = Uint32Array.from({ length: image.width }, (_, x) => Math.floor((x * width) / image.width));
  const { data } = image;
  for (let y = 0; y < image.height; y++) {
    const rowCell = Math.floor((y * height) / image.height) * width;
    const row = y * image.width;
    for (let x = 0; x < image.width; x++) {
      const cell = rowCell + columnCell[x]!;
      sums[cell]! += data[row + x]!;
      counts[cell]!++;
    }
  }
  return Uint8Array.from(sums, (sum, i) => Math.round(sum / counts[i]!));
}
