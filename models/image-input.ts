/**
 * Turns what callers have (encoded image bytes or a raw RGB frame) into the resized RGB pixels the
 * letterbox needs, with sharp (libvips: decoding and resizing run on libuv's thread pool, off the JS
 * thread). Every refusal is an InvalidInputError that says what is wrong with the image.
 */
import sharp from 'sharp';
import { InvalidInputError } from './errors.js';
import { letterboxGeometry, type LetterboxGeometry } from './letterbox.js';
import type { RawRgbImage } from './types.js';

/** Default pixel limit: well above any camera frame (a 64 MP sensor), far below a decompression bomb. */
export const DEFAULT_MAX_PIXELS = 70_000_000;

/**
 * Raster formats accepted. Vector and document formats (SVG, PDF) that sharp can also render are refused:
 * no camera produces them and rendering them is a different attack surface.
 */
const RASTER_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif']);

export interface LetterboxedPixels {
  /** Interleaved RGB, `geometry.width` x `geometry.height` x 3 bytes. */
  rgb: Uint8Array;
  geometry: LetterboxGeometry;
  /** The image as the boxes refer to it (after EXIF orientation). */
  imageWidth: number;
  imageHeight: number;
}

export interface ModelInputSize {
  width: number;
  height: number;
}

function checkPixelLimit(width: number, height: number, maxPixels: number): void {
  const pixels = width * height;
  if (pixels > maxPixels) {
    throw new InvalidInputError(`image is ${width}x${height} (${pixels} pixels), over the limit of ${maxPixels} pixels`);
  }
}

function isRawRgbImage(image: Uint8Array | RawRgbImage): image is RawRgbImage {
  return !(image instanceof Uint8Array);
}

/**
 * Decodes `image`, applies its EXIF orientation, and resizes it to the letterbox geometry for `input`.
 * Rejects empty, truncated, undecodable and oversized images with an InvalidInputError.
 */
export async function letterboxPixels(image: Uint8Array | RawRgbImage, input: ModelInputSize, maxPixels: number): Promise<LetterboxedPixels> {
  return isRawRgbImage(image) ? letterboxRaw(image, input, maxPixels) : letterboxEncoded(image, input, maxPixels);
}

async function letterboxEncoded(bytes: Uint8Array, input: ModelInputSize, maxPixels: number): Promise<LetterboxedPixels> {
  if (bytes.length === 0) throw new InvalidInputError('empty image (0 bytes)');
  // The header alone: the size and orientation fix the geometry, and a bomb is refused before decoding
  // (with its size in the message: sharp's own limit would only say "exceeds pixel limit").
  let metadata: sharp.Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new InvalidInputError(`not a decodable image (${(err as Error).message})`);
  }
  if (!RASTER_FORMATS.has(metadata.format)) {
    throw new InvalidInputError(`unsupported image format '${metadata.format}' (expected JPEG, PNG, WebP, GIF, TIFF or HEIF/AVIF)`);
  }
  const { width, height } = metadata.autoOrient;
  checkPixelLimit(width, height, maxPixels);
  const geometry = letterboxGeometry(width, height, input.width, input.height);
  try {
    // One top-to-bottom pass is all a resize needs: libvips then holds a band of rows, not the whole image.
    const pipeline = sharp(bytes, { limitInputPixels: maxPixels, autoOrient: true, sequentialRead: true });
    const rgb = await toResizedRgb(pipeline, geometry);
    return { rgb, geometry, imageWidth: width, imageHeight: height };
  } catch (err) {
    throw new InvalidInputError(`cannot decode the ${metadata.format} image (${(err as Error).message.trim()})`);
  }
}

async function letterboxRaw(image: RawRgbImage, input: ModelInputSize, maxPixels: number): Promise<LetterboxedPixels> {
  const { data, width, height } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new InvalidInputError(`raw RGB frame: width and height must be positive integers, got ${width}x${height}`);
  }
  checkPixelLimit(width, height, maxPixels);
  if (data.length !== width * height * 3) {
    throw new InvalidInputError(`raw RGB frame: ${width}x${height} needs ${width * height * 3} bytes (3 per pixel), got ${data.length}`);
  }
  const geometry = letterboxGeometry(width, height, input.width, input.height);
  if (geometry.width === width && geometry.height === height) {
    return { rgb: data, geometry, imageWidth: width, imageHeight: height };
  }
  const rgb = await toResizedRgb(sharp(data, { raw: { width, height, channels: 3 }, limitInputPixels: maxPixels }), geometry);
  return { rgb, geometry, imageWidth: width, imageHeight: height };
}

async function toResizedRgb(pipeline: sharp.Sharp, geometry: LetterboxGeometry): Promise<Uint8Array> {
  const { data, info } = await pipeline
    // The exact size Ultralytics' letterbox computes. Lanczos3 (sharp's default) reproduces the fixture
    // README's reference scores and boxes more closely than bilinear, at the same cost (measured).
    .resize(geometry.width, geometry.height, { fit: 'fill', kernel: 'lanczos3' })
    // Alpha is dropped, not composited, as cv2.imread does; grey, CMYK and 16-bit become 8-bit sRGB.
    .removeAlpha()
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== geometry.width || info.height !== geometry.height) {
    throw new Error(`decoder produced ${info.width}x${info.height}x${info.channels}, expected ${geometry.width}x${geometry.height}x3`);
  }
  return data;
}
