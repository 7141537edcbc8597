import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { AWS_IOT_MAX_PAYLOAD_BYTES as AWS_IOT_MAX_PAYLOAD } from '../../agent/mqtt-options.js';
import { SnapshotFolder, drawDetections, fitJpeg, overlaySvg } from '../../agent/snapshot.js';
import { fixture } from '../helpers/fixtures.js';

const person = { class: 'person', confidence: 0.94, bbox: { xmin: 200, ymin: 100, xmax: 600, ymax: 800 } };

/** Mean colour of a region, to see whether a box was drawn there. */
async function meanRgb(jpeg: Buffer, left: number, top: number, width: number, height: number) {
  const raw = await sharp(jpeg).extract({ left, top, width, height }).removeAlpha().raw().toBuffer();
  const sums = [0, 0, 0];
  for (let i = 0; i < raw.length; i++) sums[i % 3]! += raw[i]!;
  return sums.map((s) => s / (raw.length / 3));
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('snapshots', () => {
  it('draws a coloured box where the object is and leaves the rest of the frame alone', async () => {
    const frame = await sharp({ create: { width: 1280, height: 960, channels: 3, background: { r: 0, g: 0, b: 0 } } }).jpeg().toBuffer();
    const out = await drawDetections(frame, [person]);
    expect((await sharp(out).metadata()).format).toBe('jpeg');
    const [r, g, b] = await meanRgb(out, 198, 300, 4, 200); // the box's left edge (5 px wide)
    expect(r).toBeGreaterThan(150);
    expect(g! + b!).toBeLessThan(150);
    const inside = await meanRgb(out, 300, 300, 200, 200);
    expect(Math.max(...inside)).toBeLessThan(10);
  });

  it('escapes labels in the overlay', () => {
    expect(overlaySvg(100, 100, [{ ...person, class: '<script>&' }])).toContain('&#60;script&#62;&#38; 0.94');
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
