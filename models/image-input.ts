/**
 * Turns what callers have (encoded image bytes, a raw RGB frame, or a camera frame: JPEG or yuv420) into the resized RGB pixels the
 * letterbox needs, with sharp (libvips: decoding and resizing run on libuv's thread pool, off the JS
 * thread). Every refusal is an InvalidInputError that says what is wrong with the image.
 *
 * Decoding is priced before it starts, from the header (`decodePlan`): a baseline JPEG or a
 * non-interlaced PNG streams through the resize a band of rows at a time, while a progressive JPEG (its
 * DCT coefficients, 2 bytes each), an interlaced PNG, a GIF or a HEIF is decoded whole first. An image
 * that costs more than the decode budget is refused; the others run when their cost fits what the decodes
 * in flight leave of it (a MemoryBudget), so concurrent decodes are bounded by memory, not by count.
 */
import sharp from 'sharp';
import type { MemoryBudget } from '../agent/lib/memory-budget.js';
import { InvalidInputError } from './errors.js';
import { letterboxGeometry, writePlanarTensor, writePlanarTensorYcbcr, type LetterboxGeometry, type YcbcrPlanes } from './letterbox.js';
import { shrinkPlane } from './plane-resize.js';
import { checkYuv420, yuv420Chroma, yuv420Layout, yuv420Luma, yuv420ToRgb, type Yuv420Image } from '../agent/lib/frame-image.js';
import type { DetectorImage, RawRgbImage } from './types.js';

/** Default pixel limit: well above any camera frame (a 64 MP sensor), far below a decompression bomb. */
export const DEFAULT_MAX_PIXELS = 70_000_000;

/**
 * Memory the decodes in flight may take together (and one image at most), on top of the daemon's steady
 * ~190 MB: a camera frame costs about 10 MB, a 12 MP progressive phone photo 46 MB, the 8300x8300
 * progressive JPEG of the hostile-input sweep 216 MB (refused; it took ~200 MB per decode before).
 */
export const DEFAULT_DECODE_BUDGET_BYTES = 64 * 1024 * 1024;

/**
 * The price list, fitted to sharp 0.34 / libvips measurements of the peak RSS a decode adds (`npm run
 * bench:decode` prints estimate and measurement side by side; an estimate errs on the high side): a fixed
 * part (decoder and resize state, whatever the size), a window of source rows the streamed resize holds,
 * with its overhead, and for images that cannot stream, the whole image.
 */
const DECODE_BASE_BYTES = 6 * 1024 * 1024;
const WINDOW_ROWS = 1600;
const WINDOW_OVERHEAD = 1.25;
/** libjpeg keeps every DCT coefficient of a progressive JPEG (16 bits each) until the last scan. */
const DCT_COEFFICIENT_BYTES = 2;

/**
 * Raster formats accepted. Vector and document formats (SVG, PDF) that sharp can also render are refused:
 * no camera produces them and rendering them is a different attack surface.
 */
const RASTER_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif']);

/**
 * The image resized into its place in the letterbox, `geometry.width` x `geometry.height`: interleaved
 * RGB (3 bytes a pixel), or, from a large yuv420 frame, its Y, Cb and Cr planes (converted to RGB as the
 * tensor is written).
 */
export type LetterboxedPixels = ({ rgb: Uint8Array } | { ycbcr: YcbcrPlanes }) & {
  geometry: LetterboxGeometry;
  /** The image as the boxes refer to it (after EXIF orientation). */
  imageWidth: number;
  imageHeight: number;
};

/** Writes the letterboxed image into the model's planar float input `tensor` (pads included). */
export function writeInputTensor(pixels: LetterboxedPixels, tensor: Float32Array): void {
  if ('rgb' in pixels) writePlanarTensor(pixels.rgb, pixels.geometry, tensor);
  else writePlanarTensorYcbcr(pixels.ycbcr, pixels.geometry, tensor);
}

export interface ModelInputSize {
  width: number;
  height: number;
}

/** What decoding an encoded image will take, read from its header. */
export interface DecodePlan {
  format: string;
  /** The image as the boxes refer to it (after EXIF orientation). */
  width: number;
  height: number;
  /** Decoded whole before the resize (progressive, interlaced, GIF, HEIF), not streamed by rows. */
  wholeImage: boolean;
  /** Estimated peak memory of the decode, in bytes. */
  costBytes: number;
}

/** Samples per pixel a JPEG stores, from its chroma subsampling (`4:2:0`: one luma, two quarter chromas). */
function jpegSamplesPerPixel(metadata: sharp.Metadata): number {
  switch (metadata.chromaSubsampling) {
    case '4:2:0':
      return 1.5;
    case '4:2:2':
      return 2;
    case '4:4:4':
      return 3;
    case '4:4:4:4':
      return 4;
    default:
      return metadata.channels ?? 3;
  }
}

/**
 * The factor a JPEG or WebP is shrunk by while it is decoded, as sharp chooses it for a resize by
 * `shrink` (JPEG: 8, 4 or 2, one step lower when the shrink is exactly that integer; WebP: any factor).
 * Without a target, the largest: the decode's cost is then a lower bound.
 */
function shrinkOnLoad(format: string, shrink: number | null): number {
  if (format === 'webp') return shrink === null ? 8 : Math.max(1, shrink);
  if (format !== 'jpeg') return 1;
  if (shrink === null) return 8;
  const factor = shrink >= 8 ? 8 : shrink >= 4 ? 4 : shrink >= 2 ? 2 : 1;
  return factor > 1 && Math.trunc(shrink) === factor ? factor / 2 : factor;
}

/** The decode's estimated peak memory: fixed state, the band of rows the resize streams, and the whole image when it cannot stream. */
function decodeCost(metadata: sharp.Metadata, wholeImage: boolean, target: ModelInputSize | undefined): number {
  const width = metadata.width ?? 0;
  const height = metadata.height ?? 0;
  const bytesPerSample = metadata.depth === 'ushort' ? 2 : 1;
  // libvips' GIF loader always produces RGBA.
  const channels = metadata.format === 'gif' ? 4 : (metadata.channels ?? 3);
  // The letterbox scales both axes alike, by the larger of the two ratios.
  const resize = target ? Math.max(width / target.width, height / target.height) : null;
  const shrink = shrinkOnLoad(metadata.format, resize === null ? null : Math.max(resize, 1));
  const rows = Math.min(height / shrink, WINDOW_ROWS);
  const window = (width / shrink) * rows * channels * bytesPerSample * WINDOW_OVERHEAD;
  const perPixel = metadata.format === 'jpeg' ? jpegSamplesPerPixel(metadata) * DCT_COEFFICIENT_BYTES : channels * bytesPerSample;
  return Math.ceil(DECODE_BASE_BYTES + window + (wholeImage ? width * height * perPixel : 0));
}

function formatMB(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024))} MB`;
}

/**
 * Reads the header of `bytes` and prices its decode for a resize into `target` (none: the cheapest
 * resize, so that only images too costly for any model are refused). Throws an InvalidInputError for an
 * undecodable header, a format that is not a raster image, more than `maxPixels` pixels, or a decode that
 * would cost more than `budgetBytes`.
 */
export async function decodePlan(bytes: Uint8Array, maxPixels: number, budgetBytes: number, target?: ModelInputSize): Promise<DecodePlan> {
  if (bytes.length === 0) throw new InvalidInputError('empty image (0 bytes)');
  // The header alone: the size and orientation fix the geometry, and a bomb is refused before decoding
  // (with its size in the message: sharp's own limit would only say "exceeds pixel limit").
  let metadata: sharp.Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new InvalidInputError(`not a decodable image (${(err as Error).message})`);
  }
  const { format } = metadata;
  if (!RASTER_FORMATS.has(format)) {
    throw new InvalidInputError(`unsupported image format '${format}' (expected JPEG, PNG, WebP, GIF, TIFF or HEIF/AVIF)`);
  }
  const { width, height } = metadata.autoOrient;
  checkPixelLimit(width, height, maxPixels);
  const wholeImage = metadata.isProgressive === true || format === 'gif' || format === 'heif';
  const costBytes = decodeCost(metadata, wholeImage, target);
  if (costBytes > budgetBytes) {
    const kind = wholeImage ? `${metadata.isProgressive ? (format === 'png' ? 'interlaced ' : 'progressive ') : ''}${format.toUpperCase()} (decoded whole)` : format.toUpperCase();
    const hint = wholeImage ? 'send a baseline JPEG or a non-interlaced PNG, or a smaller image' : 'send a smaller image';
    throw new InvalidInputError(`decoding this ${width}x${height} ${kind} takes about ${formatMB(costBytes)}, over the ${formatMB(budgetBytes)} decode budget: ${hint}`);
  }
  return { format, width, height, wholeImage, costBytes };
}

function checkPixelLimit(width: number, height: number, maxPixels: number): void {
  const pixels = width * height;
  if (pixels > maxPixels) {
    throw new InvalidInputError(`image is ${width}x${height} (${pixels} pixels), over the limit of ${maxPixels} pixels`);
  }
}

/** Encoded bytes (a JPEG frame's too), a raw RGB frame, or a yuv420 frame. */
function classify(image: DetectorImage): { encoded: Uint8Array } | { rgb: RawRgbImage } | { yuv: Yuv420Image } {
  if (image instanceof Uint8Array) return { encoded: image };
  if (!('format' in image)) return { rgb: image };
  return image.format === 'jpeg' ? { encoded: image.data } : { yuv: image };
}

/**
 * Decodes `image`, applies its EXIF orientation, and resizes it to the letterbox geometry for `input`.
 * An encoded image waits for its decode's cost in `budget` (default: a budget of its own, which bounds
 * only the image itself). Rejects empty, truncated, undecodable, oversized and too costly images with an
 * InvalidInputError.
 */
export async function letterboxPixels(image: DetectorImage, input: ModelInputSize, maxPixels: number, budget?: MemoryBudget): Promise<LetterboxedPixels> {
  const kind = classify(image);
  if ('encoded' in kind) return letterboxEncoded(kind.encoded, input, maxPixels, budget);
  if ('rgb' in kind) return letterboxRaw(kind.rgb, input, maxPixels);
  return letterboxYuv420(kind.yuv, input, maxPixels);
}

/**
 * A yuv420 frame, without a JPEG round trip. A frame at least twice the letterbox's size (a 1280x720
 * camera frame into 640x640) has each plane shrunk on its own (area averaging, plane-resize.ts), the
 * chroma planes from their quarter size, and only the letterbox's pixels converted to RGB (as the tensor
 * is written): resizing is linear and the full-range conversion affine, so this is the RGB resize up to
 * rounding, for a quarter of the conversion work or less. A smaller frame is converted whole first
 * (nearest chroma, as libjpeg), then resized like any RGB frame: there, resizing the quarter-size chroma
 * planes up would blur colour that the RGB path keeps, and moved boxes by several pixels on the PNG
 * fixtures.
 */
async function letterboxYuv420(image: Yuv420Image, input: ModelInputSize, maxPixels: number): Promise<LetterboxedPixels> {
  try {
    checkYuv420(image);
  } catch (err) {
    throw new InvalidInputError((err as Error).message);
  }
  const { width, height } = image;
  checkPixelLimit(width, height, maxPixels);
  const geometry = letterboxGeometry(width, height, input.width, input.height);
  if (geometry.scale > 0.5) return letterboxRaw({ data: yuv420ToRgb(image), width, height }, input, maxPixels);
  const { chromaWidth, chromaHeight } = yuv420Layout(width, height);
  const { cb, cr } = yuv420Chroma(image);
  const ycbcr = {
    y: shrinkPlane(yuv420Luma(image), width, height, geometry.width, geometry.height),
    cb: shrinkPlane(cb, chromaWidth, chromaHeight, geometry.width, geometry.height),
    cr: shrinkPlane(cr, chromaWidth, chromaHeight, geometry.width, geometry.height),
  };
  return { ycbcr, geometry, imageWidth: width, imageHeight: height };
}

async function letterboxEncoded(bytes: Uint8Array, input: ModelInputSize, maxPixels: number, budget?: MemoryBudget): Promise<LetterboxedPixels> {
  const plan = await decodePlan(bytes, maxPixels, budget?.capacityBytes ?? DEFAULT_DECODE_BUDGET_BYTES, input);
  const { width, height } = plan;
  const geometry = letterboxGeometry(width, height, input.width, input.height);
  const decode = async () => {
    try {
      // One top-to-bottom pass is all a resize needs: libvips then holds a band of rows, not the whole image.
      const pipeline = sharp(bytes, { limitInputPixels: maxPixels, autoOrient: true, sequentialRead: true });
      return await toResizedRgb(pipeline, geometry);
    } catch (err) {
      throw new InvalidInputError(`cannot decode the ${plan.format} image (${(err as Error).message.trim()})`);
    }
  };
  const rgb = budget ? await budget.use(plan.costBytes, decode) : await decode();
  return { rgb, geometry, imageWidth: width, imageHeight: height };
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
