/**
 * Intrusion snapshots: the frame with each intruder's box and label drawn, re-encoded to fit a payload
 * limit (AWS IoT Core refuses messages over 128 KB), kept on disk in a folder capped by count.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { frameRgb, type FrameImage } from '../../drivers/camera/index.js';
import type { DetectedObject } from '../../models/types.js';
import { drawText, fillRect, strokeRect, textHeight, textWidth, type Rgb, type RgbFrame } from './raster.js';
import { writeFileAtomic } from '../lib/atomic-file.js';

const COLORS: Record<string, Rgb> = { person: [255, 59, 48], dog: [255, 149, 0], cat: [255, 204, 0], bear: [175, 82, 222] };
const OTHER_COLOR: Rgb = [52, 199, 89];
const LABEL_TEXT: Rgb = [255, 255, 255];
const QUALITIES = [80, 65, 50, 40];
/** Each resize step keeps this fraction of the width, until a frame this narrow. */
const SHRINK = 0.75;
const MIN_WIDTH = 160;

/**
 * Draws each object's box, and its label (class and confidence, white on the box's colour) above the
 * box, or inside it at the top of the frame. Sizes follow the frame so they stay legible: a 5 px line
 * and 28 px letters on a 1280 x 960 frame.
 */
export function drawOverlay(frame: RgbFrame, objects: readonly DetectedObject[]): void {
  const short = Math.min(frame.width, frame.height);
  const stroke = Math.max(2, Math.round(short / 200));
  const scale = Math.max(2, Math.round(short / 240));
  const pad = scale;
  for (const o of objects) {
    const color = COLORS[o.class] ?? OTHER_COLOR;
    const { xmin, ymin, xmax, ymax } = o.bbox;
    strokeRect(frame, xmin, ymin, xmax, ymax, stroke, color);
    const label = `${o.class} ${o.confidence.toFixed(2)}`;
    const labelHeight = textHeight(scale) + 2 * pad;
    const labelY = ymin >= labelHeight ? ymin - labelHeight : ymin;
    fillRect(frame, xmin, labelY, xmin + textWidth(label, scale) + 2 * pad, labelY + labelHeight, color);
    drawText(frame, label, xmin + pad, labelY + pad, scale, LABEL_TEXT);
  }
}

/** The frame as a JPEG with the objects' boxes and labels drawn. */
export async function drawDetections(image: FrameImage, objects: readonly DetectedObject[]): Promise<Buffer> {
  const { data, info } = await frameRgb(image).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  drawOverlay({ data, width: info.width, height: info.height }, objects);
  return sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
    .jpeg({ quality: QUALITIES[0] })
    .toBuffer();
}

/**
 * The JPEG itself when it fits `maxBytes`, else re-encoded at lower qualities, then resized step by
 * step; throws when even a thumbnail does not fit (a limit too small to be meaningful).
 */
export async function fitJpeg(jpeg: Buffer, maxBytes: number): Promise<Buffer> {
  if (jpeg.length <= maxBytes) return jpeg;
  const { width } = await sharp(jpeg).metadata();
  let targetWidth = width ?? MIN_WIDTH;
  for (;;) {
    for (const quality of QUALITIES.slice(1)) {
      const out = await sharp(jpeg).resize({ width: targetWidth, withoutEnlargement: true }).jpeg({ quality }).toBuffer();
      if (out.length <= maxBytes) return out;
    }
    if (targetWidth <= MIN_WIDTH) break;
    targetWidth = Math.max(MIN_WIDTH, Math.round(targetWidth * SHRINK));
  }
  throw new Error(`snapshot: cannot fit the frame in ${maxBytes} bytes, even at ${MIN_WIDTH} px wide`);
}

/** A folder of snapshot files, oldest removed first beyond `maxFiles`. */
export class SnapshotFolder {
  constructor(
    readonly dir: string,
    private readonly maxFiles: number,
  ) {}

  /** Writes the snapshot (atomically: a reader never sees half a file) and prunes; returns its path. */
  async save(jpeg: Buffer, ts: number, eventId: string): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    // ISO time first so that name order is age order; ':' is avoided for FAT-formatted cards.
    const name = `${new Date(ts).toISOString().replace(/[:.]/g, '-')}_${eventId.replace(/[^A-Za-z0-9-]/g, '')}.jpg`;
    const path = join(this.dir, name);
    // Durable as well as atomic: the detection row that names this file is fsynced before the alert goes.
    await writeFileAtomic(path, jpeg);
    await this.prune();
    return path;
  }

  private async prune(): Promise<void> {
    const files = (await readdir(this.dir)).filter((f) => f.endsWith('.jpg')).sort();
    const excess = files.length - this.maxFiles;
    for (const file of files.slice(0, Math.max(0, excess))) await rm(join(this.dir, file), { force: true });
  }
}
