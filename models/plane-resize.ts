/**
 * Shrinks one 8-bit plane (a yuv420 frame's Y, U or V) by area averaging: each output pixel is the mean
 * of the source pixels it covers, partly covered ones weighted by their share (OpenCV's `INTER_AREA`).
 * At exactly half size (a 1280x720 frame into a 640 letterbox) that is the 2x2 mean, which is also what
 * Ultralytics' bilinear letterbox samples there; at other sizes it does not alias as bilinear does
 * (bilinear moved bus.jpg's bus box by 18 px at 1108x1480, area stays within the 4 px the test allows).
 *
 * In plain TypeScript because it is cheap: a 1280x720 Y plane to 640x360 (2x2 blocks) in about 0.6 ms
 * here against 4.8 ms for a libvips (sharp) Lanczos3 resize, which was two thirds of the detector's work
 * on a raw frame besides the model. Other ratios take the separable weighted form (rows first into
 * floats, then columns), about 5 ms.
 */

/** For each output position along one axis: its first source sample and the weights of the samples it covers. */
interface AxisTaps {
  first: Int32Array;
  /** `width` weights per output position (zero past the last sample it covers). */
  weights: Float32Array;
  width: number;
}

function areaTaps(length: number, outLength: number): AxisTaps {
  if (outLength > length) throw new RangeError(`area averaging shrinks: ${length} px cannot become ${outLength}`);
  const scale = length / outLength;
  const width = Math.ceil(scale) + 1;
  const first = new Int32Array(outLength);
  const weights = new Float32Array(outLength * width);
  for (let i = 0; i < outLength; i++) {
    const from = i * scale;
    const to = Math.min((i + 1) * scale, length);
    const start = Math.floor(from);
    first[i] = start;
    for (let j = start; j < to; j++) weights[i * width + (j - start)] = (Math.min(j + 1, to) - Math.max(j, from)) / scale;
  }
  return { first, weights, width };
}

/**
 * The mean of each `factor` x `factor` block: area averaging when the plane is a whole number of times
 * the output on both axes (a 1280x720 or 1920x1080 frame into a 640 letterbox), five to ten times faster
 * than the general weighted form.
 */
function blockMeans(plane: Uint8Array, width: number, factor: number, outWidth: number, outHeight: number): Uint8Array {
  const out = new Uint8Array(outWidth * outHeight);
  const area = factor * factor;
  const half = area >> 1;
  for (let y = 0; y < outHeight; y++) {
    const top = y * factor * width;
    const target = y * outWidth;
    if (factor === 2) {
      // The common case (1280x720 into 640) written out: four reads, no inner loops.
      for (let x = 0, at = top; x < outWidth; x++, at += 2) out[target + x] = (plane[at]! + plane[at + 1]! + plane[at + width]! + plane[at + width + 1]! + 2) >> 2;
      continue;
    }
    for (let x = 0; x < outWidth; x++) {
      let sum = 0;
      for (let row = top + x * factor, end = row + factor * width; row < end; row += width) {
        for (let k = 0; k < factor; k++) sum += plane[row + k]!;
      }
      out[target + x] = ((sum + half) / area) | 0;
    }
  }
  return out;
}

/**
 * `plane` (`width` x `height`, one byte a pixel, rows packed) shrunk to `outWidth` x `outHeight`; the
 * plane's own bytes, not a copy, when the sizes are the same (a 1280x720 frame's chroma for a 640 input).
 */
export function shrinkPlane(plane: Uint8Array, width: number, height: number, outWidth: number, outHeight: number): Uint8Array {
  if (plane.length < width * height) throw new RangeError(`a ${width}x${height} plane needs ${width * height} bytes, got ${plane.length}`);
  if (width === outWidth && height === outHeight) return plane.subarray(0, width * height);
  const factor = width / outWidth;
  if (Number.isInteger(factor) && height === outHeight * factor) return blockMeans(plane, width, factor, outWidth, outHeight);
  const columns = areaTaps(width, outWidth);
  const rows = areaTaps(height, outHeight);
  // Rows first: every source row shrunk to outWidth columns.
  const across = new Float32Array(height * outWidth);
  for (let y = 0; y < height; y++) {
    const source = y * width;
    const target = y * outWidth;
    for (let x = 0; x < outWidth; x++) {
      const start = source + columns.first[x]!;
      const tap = x * columns.width;
      let sum = 0;
      for (let k = 0; k < columns.width && start + k < source + width; k++) sum += plane[start + k]! * columns.weights[tap + k]!;
      across[target + x] = sum;
    }
  }
  // Then columns: each output row the weighted sum of the shrunk rows it covers.
  const out = new Uint8Array(outWidth * outHeight);
  const row = new Float32Array(outWidth);
  for (let y = 0; y < outHeight; y++) {
    row.fill(0);
    const start = rows.first[y]!;
    const tap = y * rows.width;
    for (let k = 0; k < rows.width && start + k < height; k++) {
      const weight = rows.weights[tap + k]!;
      if (weight === 0) continue;
      const source = (start + k) * outWidth;
      for (let x = 0; x < outWidth; x++) row[x]! += across[source + x]! * weight;
    }
    // + 0.5: rounded to the nearest level (a Uint8Array store truncates).
    const target = y * outWidth;
    for (let x = 0; x < outWidth; x++) out[target + x] = row[x]! + 0.5;
  }
  return out;
}
