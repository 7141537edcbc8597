/**
 * Letterbox geometry (the same as Ultralytics' `LetterBox(center=True)`) and the conversion of a resized
 * RGB image (or Y, Cb and Cr planes) into the model's planar float input. Pure functions: the image
 * decoding lives in models/image-input.ts, the decoding of the model output in models/yolo-decode.ts.
 */
import { blueOf, greenOf, redOf } from '../agent/lib/frame-image.js';
import type { BoundingBox } from './types.js';

/** Grey the letterbox pads with, as Ultralytics trains and exports with. */
export const PAD_VALUE = 114;

export interface LetterboxGeometry {
  /** The model input size. */
  inputWidth: number;
  inputHeight: number;
  /** Image pixels to input pixels (the same on both axes, so the aspect ratio is kept). */
  scale: number;
  /** Size of the resized image inside the input. */
  width: number;
  height: number;
  /** Offset of the resized image inside the input (the left/top pad). */
  left: number;
  top: number;
}

/** Python's round(): halves go to the even neighbour, which Ultralytics' geometry inherits. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Where an image of `imageWidth` x `imageHeight` goes in an `inputWidth` x `inputHeight` model input:
 * scaled (up or down) to fit, aspect ratio kept, centred; an odd pad puts the extra pixel right/bottom.
 */
export function letterboxGeometry(imageWidth: number, imageHeight: number, inputWidth: number, inputHeight: number): LetterboxGeometry {
  for (const [name, value] of Object.entries({ imageWidth, imageHeight, inputWidth, inputHeight })) {
    if (!Number.isInteger(value) || value <= 0) throw new RangeError(`letterbox: ${name} must be a positive integer, got ${value}`);
  }
  const scale = Math.min(inputWidth / imageWidth, inputHeight / imageHeight);
  // Clamped to at least one pixel so that a 10000x1 strip still maps onto something.
  const width = Math.min(inputWidth, Math.max(1, roundHalfEven(imageWidth * scale)));
  const height = Math.min(inputHeight, Math.max(1, roundHalfEven(imageHeight * scale)));
  const left = Math.floor((inputWidth - width) / 2);
  const top = Math.floor((inputHeight - height) / 2);
  return { inputWidth, inputHeight, scale, width, height, left, top };
}

/** uint8 channel value to the model's 0..1 float: a multiplication (measured faster than a lookup table). */
const UNIT_SCALE = 1 / 255;

/**
 * Checks that `tensor` is the model's planar input ([3, inputHeight, inputWidth]) and fills it with the
 * pad grey, ready for the image to be written over its middle. Returns the size of one plane.
 */
function padTensor(geometry: LetterboxGeometry, tensor: Float32Array): number {
  const { inputWidth, inputHeight } = geometry;
  const plane = inputWidth * inputHeight;
  if (tensor.length !== 3 * plane) throw new RangeError(`tensor holds ${tensor.length} values, expected 3x${inputHeight}x${inputWidth}`);
  tensor.fill(PAD_VALUE * UNIT_SCALE);
  return plane;
}

/**
 * Writes an interleaved RGB image of `geometry.width` x `geometry.height` (3 bytes per pixel, row-major)
 * into `tensor` as planar RGB 0..1 ([3, inputHeight, inputWidth]), centred, with the pads filled with
 * PAD_VALUE. `tensor` is reused from call to call, so every element is written.
 */
export function writePlanarTensor(rgb: Uint8Array, geometry: LetterboxGeometry, tensor: Float32Array): void {
  const { inputWidth, width, height, left, top } = geometry;
  if (rgb.length !== width * height * 3) throw new RangeError(`image holds ${rgb.length} bytes, expected ${width}x${height}x3`);
  const plane = padTensor(geometry, tensor);
  const green = plane;
  const blue = 2 * plane;
  let src = 0;
  for (let y = 0; y < height; y += 1) {
    let dst = (top + y) * inputWidth + left;
    const rowEnd = dst + width;
    for (; dst < rowEnd; dst += 1, src += 3) {
      tensor[dst] = rgb[src]! * UNIT_SCALE;
      tensor[green + dst] = rgb[src + 1]! * UNIT_SCALE;
      tensor[blue + dst] = rgb[src + 2]! * UNIT_SCALE;
    }
  }
}

/** Y, Cb and Cr planes of one size (4:4:4: a yuv420 frame's planes each resized to the letterbox). */
export interface YcbcrPlanes {
  y: Uint8Array;
  cb: Uint8Array;
  cr: Uint8Array;
}

/**
 * As writePlanarTensor, from Y, Cb and Cr planes of `geometry.width` x `geometry.height`, each pixel
 * converted to RGB on its way into the tensor (the same integer RGB as `yuv420ToRgb`'s, without an
 * interleaved copy in between: about 1 ms less per 640x360 letterbox here).
 */
export function writePlanarTensorYcbcr(planes: YcbcrPlanes, geometry: LetterboxGeometry, tensor: Float32Array): void {
  const { inputWidth, width, height, left, top } = geometry;
  const { y: luma, cb, cr } = planes;
  if (luma.length !== width * height || cb.length !== luma.length || cr.length !== luma.length) {
    throw new RangeError(`planes hold ${luma.length}, ${cb.length} and ${cr.length} bytes, expected ${width}x${height} each`);
  }
  const plane = padTensor(geometry, tensor);
  let src = 0;
  for (let y = 0; y < height; y += 1) {
    let dst = (top + y) * inputWidth + left;
    const rowEnd = dst + width;
    for (; dst < rowEnd; dst += 1, src += 1) {
      const lumaByte = luma[src]!;
      const cbByte = cb[src]!;
      const crByte = cr[src]!;
      tensor[dst] = redOf(lumaByte, crByte) * UNIT_SCALE;
      tensor[plane + dst] = greenOf(lumaByte, cbByte, crByte) * UNIT_SCALE;
      tensor[2 * plane + dst] = blueOf(lumaByte, cbByte) * UNIT_SCALE;
    }
  }
}

/**
 * Maps a box from model-input pixels (x1, y1, x2, y2) back to the original image: pads removed, scale
 * undone, clipped to the image, rounded to whole pixels.
 */
export function boxToImage(
  x1: number,
  y1: number,
  x2: number,
  y2: number,
  geometry: LetterboxGeometry,
  imageWidth: number,
  imageHeight: number,
): BoundingBox {
  const { scale, left, top } = geometry;
  const clip = (value: number, max: number) => Math.round(Math.min(Math.max(value, 0), max));
  return {
    xmin: clip((x1 - left) / scale, imageWidth),
    ymin: clip((y1 - top) / scale, imageHeight),
    xmax: clip((x2 - left) / scale, imageWidth),
    ymax: clip((y2 - top) / scale, imageHeight),
  };
}
