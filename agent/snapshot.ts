/**
 * Intrusion snapshots: the frame with each intruder's box and label drawn, re-encoded to fit a payload
 * limit (AWS IoT Core refuses messages over 128 KB), kept on disk in a folder capped by count.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { DetectedObject } from '../models/types.js';

const COLORS: Record<string, string> = { person: '#ff3b30', dog: '#ff9500', cat: '#ffcc00', bear: '#af52de' };
const QUALITIES = [80, 65, 50, 40];
/** Each resize step keeps this fraction of the width, until a frame this narrow. */
const SHRINK = 0.75;
const MIN_WIDTH = 160;

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The SVG overlay: one box and one label per object, sized relative to the frame so they stay legible. */
export function overlaySvg(width: number, height: number, objects: readonly DetectedObject[]): string {
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 200));
  const font = Math.max(12, Math.round(Math.min(width, height) / 30));
  const shapes = objects.map((o) => {
    const color = COLORS[o.class] ?? '#34c759';
    const { xmin, ymin, xmax, ymax } = o.bbox;
    const label = `${o.class} ${o.confidence.toFixed(2)}`;
    const labelWidth = Math.round(label.length * font * 0.6 + font * 0.4);
    const labelY = ymin >= font + 4 ? ymin - font - 4 : ymin;
    return (
      `<rect x="${xmin}" y="${ymin}" width="${xmax - xmin}" height="${ymax - ymin}" fill="none" stroke="${color}" stroke-width="${stroke}"/>` +
      `<rect x="${xmin}" y="${labelY}" width="${labelWidth}" height="${font + 4}" fill="${color}"/>` +
      `<text x="${xmin + font * 0.2}" y="${labelY + font}" font-family="sans-serif" font-size="${font}" fill="#ffffff">${escapeXml(label)}</text>`
    );
  });
  return `<svg width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">${shapes.join('')}</svg>`;
}

/** The frame as a JPEG with the objects' boxes and labels drawn. */
export async function drawDetections(image: Buffer, objects: readonly DetectedObject[]): Promise<Buffer> {
  const { width, height } = await sharp(image).metadata();
  if (!width || !height) throw new Error('snapshot: the frame has no dimensions');
  return sharp(image)
    .composite([{ input: Buffer.from(overlaySvg(width, height, objects)), left: 0, top: 0 }])
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
    const temp = join(this.dir, `.${randomUUID()}.tmp`);
    await writeFile(temp, jpeg);
    await rename(temp, path);
    await this.prune();
    return path;
  }

  private async prune(): Promise<void> {
    const files = (await readdir(this.dir)).filter((f) => f.endsWith('.jpg')).sort();
    const excess = files.length - this.maxFiles;
    for (const file of files.slice(0, Math.max(0, excess))) await rm(join(this.dir, file), { force: true });
  }
}
