/**
 * Pixel operations for camera-like frames made from still photos (bench:confirmation, eval:vision): raw
 * RGB images (models/types.ts's RawRgbImage) cropped, resized, brightened, noised and pasted together.
 * Noise comes from a seeded generator (the training scripts' seededRandom), so a sequence is the same on every run. The pixel operations are
 * plain loops (testable without fixtures); decoding, resizing, turning and encoding go to sharp.
 */
import sharp from 'sharp';
import type { RawRgbImage } from '../../../models/types.js';

/** A rectangle in pixels. */
export interface Region {
  left: number;
  top: number;
  width: number;
  height: number;
}

const clampByte = (value: number) => Math.max(0, Math.min(255, Math.round(value)));

export async function decodeRgb(image: Buffer | string): Promise<RawRgbImage> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

export function encodeJpeg(image: RawRgbImage, quality = 85): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
}

/** `region` of `image` resized to `size` (a zoom when the region is smaller than the size). */
export async function view(image: RawRgbImage, region: Region, size: { width: number; height: number }): Promise<RawRgbImage> {
  const data = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .extract(region)
    .resize(size.width, size.height, { fit: 'fill' })
    .raw()
    .toBuffer();
  return { data, width: size.width, height: size.height };
}

/** The image turned clockwise by a multiple of 90 degrees. */
export async function rotate(image: RawRgbImage, degrees: 0 | 90 | 180 | 270): Promise<RawRgbImage> {
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .rotate(degrees)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

export function crop(image: RawRgbImage, region: Region): RawRgbImage {
  const data = new Uint8Array(region.width * region.height * 3);
  for (let y = 0; y < region.height; y++) {
    const from = ((region.top + y) * image.width + region.left) * 3;
    data.set(image.data.subarray(from, from + region.width * 3), y * region.width * 3);
  }
  return { data, width: region.width, height: region.height };
}

/** Gaussian sensor noise of `sigma` grey levels on every channel of every pixel. */
export function addNoise(image: RawRgbImage, sigma: number, next: () => number): RawRgbImage {
  const data = new Uint8Array(image.data.length);
  for (let p = 0; p < data.length; p++) {
    // Box-Muller on two uniforms.
    const noise = Math.sqrt(-2 * Math.log(next() || 1e-9)) * Math.cos(2 * Math.PI * next()) * sigma;
    data[p] = clampByte(image.data[p]! + noise);
  }
  return { ...image, data };
}

/** Every channel multiplied by `gain` (a light dimming below 1, a flash or a lamp above), clipped at 255. */
export function brighten(image: RawRgbImage, gain: number): RawRgbImage {
  return { ...image, data: image.data.map((v) => clampByte(v * gain)) };
}

/** `patch` pasted over `background` with its top left corner at (`left`, `top`); what falls outside is cut off. */
export function paste(background: RawRgbImage, patch: RawRgbImage, left: number, top: number): RawRgbImage {
  const data = Uint8Array.from(background.data);
  const x0 = Math.max(0, left);
  const x1 = Math.min(background.width, left + patch.width);
  if (x1 <= x0) return { ...background, data };
  for (let y = Math.max(0, top); y < Math.min(background.height, top + patch.height); y++) {
    const from = ((y - top) * patch.width + (x0 - left)) * 3;
    data.set(patch.data.subarray(from, from + (x1 - x0) * 3), (y * background.width + x0) * 3);
  }
  return { ...background, data };
}
