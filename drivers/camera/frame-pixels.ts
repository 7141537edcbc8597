/**
 * Reading a frame whatever its format: the one place that knows how a JPEG frame and a raw yuv420 frame
 * become pixels, so the motion gate, the snapshot and the CLI never switch on the format themselves. A
 * raw frame costs no decode: its Y plane is the greyscale image, its RGB one conversion.
 */
import sharp from 'sharp';
import { yuv420Luma, yuv420ToRgb } from '../../agent/lib/frame-image.js';
import type { FrameImage } from './types.js';

/** The frame's RGB pixels as a sharp pipeline (a JPEG is decoded by it, raw pixels are converted first). */
export function frameRgb(image: FrameImage): sharp.Sharp {
  if (image.format === 'jpeg') return sharp(image.data);
  const { width, height } = image;
  return sharp(yuv420ToRgb(image), { raw: { width, height, channels: 3 } });
}

/** The frame's brightness as a one-channel sharp pipeline: a raw frame's Y plane as it is. */
export function frameLuma(image: FrameImage): sharp.Sharp {
  if (image.format === 'jpeg') return sharp(image.data).greyscale();
  const { width, height } = image;
  // b-w: one channel out, as greyscale() gives for a JPEG (libvips would otherwise write sRGB).
  return sharp(yuv420Luma(image), { raw: { width, height, channels: 1 } }).toColourspace('b-w');
}

/** The frame as a JPEG: a JPEG frame as it came, a raw one encoded at `quality`. */
export async function frameToJpeg(image: FrameImage, quality = 90): Promise<Buffer> {
  if (image.format === 'jpeg') return image.data;
  return frameRgb(image).jpeg({ quality }).toBuffer();
}

/** Width and height in pixels (a JPEG's from its header). */
export async function frameSize(image: FrameImage): Promise<{ width: number; height: number }> {
  if (image.format === 'yuv420') return { width: image.width, height: image.height };
  const { width, height } = await sharp(image.data).metadata();
  return { width, height };
}
