/**
 * What a camera frame's pixels are: a JPEG as the camera encoded it, or raw yuv420 (I420) pixels. Both
 * the camera drivers (which produce them) and the detector (which reads them) use these types, so they
 * live here, below both. Pure code: no decoding library.
 *
 * yuv420 here is always full-range BT.601 YCbCr (the JPEG/sYCC colour space): what rpicam-vid sends for
 * `--codec yuv420` (rpicam-apps asks libcamera for ColorSpace::Sycc for mjpeg and yuv420 alike), what
 * the ffmpeg driver asks for (`out_range=full`), and what a JPEG decoder converts from, so a frame gives
 * the same RGB whichever way it arrived.
 */

export interface JpegImage {
  format: 'jpeg';
  /** One complete JPEG image, SOI to EOI. */
  data: Buffer;
}

/**
 * Planar yuv420 without row padding: the Y plane (`width` x `height`), then U and V (each
 * ceil(width/2) x ceil(height/2)). A driver that receives padded rows crops them before handing the
 * frame on (see yuv420Layout).
 */
export interface Yuv420Image {
  format: 'yuv420';
  width: number;
  height: number;
  data: Uint8Array;
}

export type FrameImage = JpegImage | Yuv420Image;

/** Where the planes of a yuv420 frame are, for given row strides (bytes from one row to the next). */
export interface Yuv420Layout {
  width: number;
  height: number;
  yStride: number;
  uvStride: number;
  chromaWidth: number;
  chromaHeight: number;
  /** Bytes of one whole frame: Y plane, then U, then V. */
  frameBytes: number;
}

const alignUp = (value: number, alignment: number) => Math.ceil(value / alignment) * alignment;

/**
 * The plane layout of a `width` x `height` yuv420 frame whose Y rows are padded to a multiple of
 * `yAlign` bytes and U/V rows to a multiple of `yAlign / 2` (1: no padding, as ffmpeg writes it; 64:
 * rpicam-vid, so a 780-wide frame arrives with 832-byte Y rows and 416-byte U/V rows).
 */
export function yuv420Layout(width: number, height: number, yAlign = 1): Yuv420Layout {
  const chromaWidth = Math.ceil(width / 2);
  const chromaHeight = Math.ceil(height / 2);
  const yStride = alignUp(width, yAlign);
  const uvStride = alignUp(chromaWidth, Math.max(1, yAlign / 2));
  return { width, height, yStride, uvStride, chromaWidth, chromaHeight, frameBytes: yStride * height + 2 * uvStride * chromaHeight };
}

/** Whether rows of this layout carry bytes beyond the visible pixels (a crop must drop them). */
export function hasRowPadding(layout: Yuv420Layout): boolean {
  return layout.yStride !== layout.width || layout.uvStride !== layout.chromaWidth;
}

/**
 * Copies the visible pixels of one padded frame (`source` holds exactly `layout.frameBytes` from
 * `offset`) into an unpadded Yuv420Image: in `into` when given (exactly the unpadded frame's size, so a
 * caller can reuse memory), else in new memory.
 */
export function cropYuv420(source: Uint8Array, offset: number, layout: Yuv420Layout, into?: Uint8Array): Yuv420Image {
  const { width, height, yStride, uvStride, chromaWidth, chromaHeight } = layout;
  const packed = yuv420Layout(width, height);
  if (into && into.length !== packed.frameBytes) throw new RangeError(`a ${width}x${height} yuv420 frame needs ${packed.frameBytes} bytes, got ${into.length}`);
  const data = into ?? new Uint8Array(packed.frameBytes);
  if (!hasRowPadding(layout)) {
    data.set(source.subarray(offset, offset + packed.frameBytes));
    return { format: 'yuv420', width, height, data };
  }
  let to = 0;
  const copyPlane = (from: number, rows: number, rowBytes: number, stride: number) => {
    for (let row = 0; row < rows; row++, to += rowBytes) data.set(source.subarray(from + row * stride, from + row * stride + rowBytes), to);
    return from + rows * stride;
  };
  const uStart = copyPlane(offset, height, width, yStride);
  const vStart = copyPlane(uStart, chromaHeight, chromaWidth, uvStride);
  copyPlane(vStart, chromaHeight, chromaWidth, uvStride);
  return { format: 'yuv420', width, height, data };
}

/** The same pixels in memory of their own: what outlives a camera frame whose memory goes back to the camera. */
export function copyFrameImage(image: FrameImage): FrameImage {
  return image.format === 'jpeg' ? { format: 'jpeg', data: Buffer.from(image.data) } : { ...image, data: image.data.slice() };
}

/** Throws a RangeError naming the problem when `image.data` does not hold a whole frame of its size. */
export function checkYuv420(image: Yuv420Image): void {
  const { width, height } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`yuv420 frame: width and height must be positive integers, got ${width}x${height}`);
  }
  const expected = yuv420Layout(width, height).frameBytes;
  if (image.data.length !== expected) throw new RangeError(`yuv420 frame: ${width}x${height} needs ${expected} bytes, got ${image.data.length}`);
}

/** The Y plane (brightness), `width` x `height` bytes: all the motion gate needs, at no conversion cost. */
export function yuv420Luma(image: Yuv420Image): Uint8Array {
  return image.data.subarray(0, image.width * image.height);
}

// Full-range BT.601 (JFIF) in 16.16 fixed point: R = Y + 1.402 Cr, G = Y - 0.344136 Cb - 0.714136 Cr,
// B = Y + 1.772 Cb, with Cb and Cr centred on 128. The same coefficients as libjpeg's decoder.
const FIX = 1 << 16;
const CR_R = Math.round(1.402 * FIX);
const CB_G = Math.round(0.344136 * FIX);
const CR_G = Math.round(0.714136 * FIX);
const CB_B = Math.round(1.772 * FIX);
const HALF = FIX / 2;

const clampByte = (value: number) => (value < 0 ? 0 : value > 255 ? 255 : value);

/** R of one full-range YCbCr sample (0..255). Small enough for V8 to inline into a per-pixel loop. */
export const redOf = (y: number, cr: number): number => clampByte((y * FIX + HALF + CR_R * (cr - 128)) >> 16);
/** G of one full-range YCbCr sample (0..255). */
export const greenOf = (y: number, cb: number, cr: number): number => clampByte((y * FIX + HALF - CB_G * (cb - 128) - CR_G * (cr - 128)) >> 16);
/** B of one full-range YCbCr sample (0..255). */
export const blueOf = (y: number, cb: number): number => clampByte((y * FIX + HALF + CB_B * (cb - 128)) >> 16);

/** Writes the RGB of one full-range YCbCr sample at `out[at..at+2]`. */
function writeRgb(out: Uint8Array, at: number, y: number, cb: number, cr: number): void {
  out[at] = redOf(y, cr);
  out[at + 1] = greenOf(y, cb, cr);
  out[at + 2] = blueOf(y, cb);
}

/** The U (Cb) and V (Cr) planes of a yuv420 frame, each ceil(width/2) x ceil(height/2). */
export function yuv420Chroma(image: Yuv420Image): { cb: Uint8Array; cr: Uint8Array } {
  const { chromaWidth, chromaHeight } = yuv420Layout(image.width, image.height);
  const start = image.width * image.height;
  const size = chromaWidth * chromaHeight;
  return { cb: image.data.subarray(start, start + size), cr: image.data.subarray(start + size, start + 2 * size) };
}

/**
 * Interleaved RGB (3 bytes a pixel) from a yuv420 frame: each 2x2 block shares its chroma sample
 * (nearest, as libjpeg's fast upsampling). Integer arithmetic only. For a large frame the detector
 * resizes the planes first and converts only the letterbox's pixels (models/image-input.ts).
 */
export function yuv420ToRgb(image: Yuv420Image): Uint8Array {
  checkYuv420(image);
  const { width, height, data } = image;
  const { chromaWidth, chromaHeight } = yuv420Layout(width, height);
  const uPlane = width * height;
  const vPlane = uPlane + chromaWidth * chromaHeight;
  const rgb = new Uint8Array(width * height * 3);
  let out = 0;
  for (let y = 0; y < height; y++) {
    const yRow = y * width;
    const cRow = (y >> 1) * chromaWidth;
    for (let x = 0; x < width; x++, out += 3) {
      const c = cRow + (x >> 1);
      writeRgb(rgb, out, data[yRow + x]!, data[uPlane + c]!, data[vPlane + c]!);
    }
  }
  return rgb;
}
