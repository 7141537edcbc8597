import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { AWS_IOT_MAX_PAYLOAD_BYTES as AWS_IOT_MAX_PAYLOAD } from '../../agent/mqtt/client-options.js';
import { glyphRows } from '../../agent/vision/pixel-font.js';
import type { RgbFrame } from '../../agent/vision/raster.js';
import { SnapshotFolder, drawDetections, drawOverlay, fitJpeg } from '../../agent/vision/snapshot.js';
import { fixture } from '../helpers/fixtures.js';

const person = { class: 'person', confidence: 0.94, bbox: { xmin: 200, ymin: 100, xmax: 600, ymax: 800 } };

/** Mean colour of a region, to see whether a box was drawn there. */
async function meanRgb(jpeg: Buffer, left: number, top: number, width: number, height: number) {
  const raw = await sharp(jpeg).extract({ left, top, width, height }).removeAlpha().raw().toBuffer();
  const sums = [0, 0, 0];
  for (let i = 0; i < raw.length; i++) sums[i % 3]! += raw[i]!;
  return sums.map((s) => s / (raw.length / 3));
}

function blackFrame(width: number, height: number): RgbFrame {
  return { data: Buffer.alloc(width * height * 3), width, height };
}

function pixel(frame: RgbFrame, x: number, y: number): number[] {
  const i = 3 * (y * frame.width + x);
  return [...frame.data.subarray(i, i + 3)];
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('snapshots', () => {
  it('draws a coloured box where the object is and leaves the rest of the frame alone', async () => {
    const frame = await sharp({ create: { width: 1280, height: 960, channels: 3, background: { r: 0, g: 0, b: 0 } } }).jpeg().toBuffer();
    const out = await drawDetections({ format: 'jpeg', data: frame }, [person]);
    expect((await sharp(out).metadata()).format).toBe('jpeg');
    const [r, g, b] = await meanRgb(out, 198, 300, 4, 200); // the box's left edge (5 px wide)
    expect(r).toBeGreaterThan(150);
    expect(g! + b!).toBeLessThan(150);
    const inside = await meanRgb(out, 300, 300, 200, 200);
    expect(Math.max(...inside)).toBeLessThan(10);
  });

  it('writes the label, white on the box colour, above the box: legible glyphs at the frame\'s scale', () => {
    const frame = blackFrame(1280, 960);
    drawOverlay(frame, [person]);
    // 960 px high: letters of 7 x 4 px rows, 4 px padding, so the label spans y 64..99 above the box at y 100.
    const scale = 4;
    expect(pixel(frame, 202, 66)).toEqual([255, 59, 48]); // the label's background, in the person colour
    const [textX, textY] = [200 + scale, 64 + scale];
    const rows = glyphRows('p');
    for (let r = 0; r < rows.length; r++) {
      for (let c = 0; c < 5; c++) {
        const ink = rows[r]![c] === '#';
        expect(pixel(frame, textX + c * scale + 1, textY + r * scale + 1), `'p' row ${r} column ${c}`).toEqual(ink ? [255, 255, 255] : [255, 59, 48]);
      }
    }
    expect(pixel(frame, 150, 80)).toEqual([0, 0, 0]); // nothing left of the box
  });

  it('puts the label inside a box that touches the top, and clips whatever reaches past the edges', () => {
    const frame = blackFrame(320, 240);
    const atTheEdges = { class: 'Unknown-ß', confidence: 0.5, bbox: { xmin: 250, ymin: 0, xmax: 400, ymax: 300 } };
    expect(() => drawOverlay(frame, [atTheEdges])).not.toThrow();
    expect(frame.data.length).toBe(320 * 240 * 3);
    expect(pixel(frame, 252, 3)).toEqual([52, 199, 89]); // label background, inside the box, in the default colour
    expect(pixel(frame, 249, 120)).toEqual([52, 199, 89]); // the box's left edge
  });

  it('fits a large photo into the AWS IoT Core payload limit and leaves a small one untouched', async () => {
    const big = await sharp(readFileSync(fixture('images/bus.jpg'))).resize(1600).jpeg({ quality: 98 }).toBuffer();
    expect(big.length).toBeGreaterThan(AWS_IOT_MAX_PAYLOAD);
    const fitted = await fitJpeg(big, AWS_IOT_MAX_PAYLOAD);
    expect(fitted.length).toBeLessThanOrEqual(AWS_IOT_MAX_PAYLOAD);
    expect((await sharp(fitted).metadata()).format).toBe('jpeg');
    const small = readFileSync(fixture('images/person.jpg'));
    expect(await fitJpeg(small, 1_000_000)).toBe(small);
    await expect(fitJpeg(big, 500)).rejects.toThrow(/cannot fit the frame in 500 bytes/);
  });

  it('keeps at most max_files snapshots, removing the oldest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'snapshots-'));
    dirs.push(dir);
    const folder = new SnapshotFolder(join(dir, 'snaps'), 2);
    const jpeg = readFileSync(fixture('images/person.jpg'));
    const t0 = Date.UTC(2026, 0, 1);
    const first = await folder.save(jpeg, t0, 'event-1');
    await folder.save(jpeg, t0 + 1000, 'event-2');
    const third = await folder.save(jpeg, t0 + 2000, 'event-3');
    const files = readdirSync(join(dir, 'snaps'));
    expect(files).toHaveLength(2);
    expect(files).not.toContain(first.split('/').pop());
    expect(readFileSync(third).equals(jpeg)).toBe(true);
  });
});
