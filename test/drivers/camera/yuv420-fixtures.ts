/**
 * Real fixture images as raw yuv420 frames, made at test time with ffmpeg (the same scale, pad and full
 * range the ffmpeg driver asks for), in two forms: packed (what a camera frame holds after the splitter
 * cropped it: the expected value) and padded as rpicam-vid writes them (Y rows to a multiple of 64 bytes,
 * U/V rows to 32; what the fake rpicam-vid streams). The padding bytes are 0xAB, so a splitter that kept
 * or misplaced any of them shows it.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { yuv420Layout, type Yuv420Image } from '../../../agent/lib/frame-image.js';

const run = promisify(execFile);
const PAD_BYTE = 0xab;

export interface Yuv420Fixture {
  /** The frame after cropping: what the camera must deliver, bit for bit. */
  image: Yuv420Image;
  /** A file holding the frame with rows padded for `yAlign` (what the fake rpicam-vid sends). */
  paddedFile: string;
}

/**
 * `image` (any format ffmpeg reads) as a full-range yuv420 frame: fitted into exactly `size` (which must
 * be even), or at its own size (odd sizes included).
 */
export async function toYuv420(image: string, size?: { width: number; height: number }): Promise<Yuv420Image> {
  const { width, height } = size ?? (await sharp(image).metadata());
  const filter = size
    ? `scale=${width}:${height}:force_original_aspect_ratio=decrease:force_divisible_by=2:out_range=full,pad=${width}:${height}:-1:-1`
    : 'scale=out_range=full';
  const args = ['-hide_banner', '-loglevel', 'error', '-i', image, '-frames:v', '1', '-vf', filter, '-pix_fmt', 'yuv420p', '-f', 'rawvideo', 'pipe:1'];
  const { stdout } = await run('ffmpeg', args, { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
  const expected = yuv420Layout(width, height).frameBytes;
  if (stdout.length !== expected) throw new Error(`ffmpeg made ${stdout.length} bytes of yuv420 from ${image}, expected ${expected} for ${width}x${height}`);
  return { format: 'yuv420', width, height, data: new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.byteLength) };
}

/** The frame with its rows padded to the strides of `yuv420Layout(width, height, yAlign)`. */
export function padRows(image: Yuv420Image, yAlign: number): Buffer {
  const packed = yuv420Layout(image.width, image.height);
  const padded = yuv420Layout(image.width, image.height, yAlign);
  const out = Buffer.alloc(padded.frameBytes, PAD_BYTE);
  let from = 0;
  let to = 0;
  const plane = (rows: number, rowBytes: number, stride: number) => {
    for (let row = 0; row < rows; row++, from += rowBytes, to += stride) out.set(image.data.subarray(from, from + rowBytes), to);
  };
  plane(packed.height, packed.width, padded.yStride);
  plane(packed.chromaHeight, packed.chromaWidth, padded.uvStride);
  plane(packed.chromaHeight, packed.chromaWidth, padded.uvStride);
  return out;
}

/** Each image as a yuv420 frame, and a padded copy of it written into `dir`. */
export async function yuv420Fixtures(images: string[], width: number, height: number, dir: string, yAlign = 64): Promise<Yuv420Fixture[]> {
  return Promise.all(
    images.map(async (file, i) => {
      const image = await toYuv420(file, { width, height });
      const paddedFile = join(dir, `${i}-${basename(file)}-${width}x${height}.yuv`);
      await writeFile(paddedFile, padRows(image, yAlign));
      return { image, paddedFile };
    }),
  );
}
