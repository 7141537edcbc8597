/**
 * `npm run bench:decode`
 *
 * The decode budget's price list against the memory decodes really take. For each image (flat colour,
 * generated here: progressive and baseline JPEGs, interlaced and plain PNGs, wide and tall shapes, a
 * camera frame, phone photos), a fresh process reads the file, resets its peak RSS, letterboxes the image
 * once to 640x640 as the detector does (with a budget large enough for anything), and reports the rise of
 * its peak RSS. Printed beside it: decodePlan's estimate, which the budget (64 MB) is checked against;
 * an estimate should be at or above the measurement. Last, one JSON line with every figure.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { MemoryBudget } from '../../agent/lib/memory-budget.js';
import { decodePlan, DEFAULT_DECODE_BUDGET_BYTES, DEFAULT_MAX_PIXELS, letterboxPixels } from '../../models/image-input.js';
import { flatImage, type ImageLayout } from './layouts.js';
import { peakRssMb, resetPeak, rssMb } from './peak-memory.js';
import { unitEnvironment, unitNodeFlags } from './unit.js';

const MB = 1024 * 1024;

// ---- one decode (child process) ----

async function decodeOnce(path: string): Promise<void> {
  sharp.cache(false);
  const bytes = readFileSync(path);
  resetPeak(process.pid);
  const before = rssMb(process.pid);
  await letterboxPixels(bytes, { width: 640, height: 640 }, DEFAULT_MAX_PIXELS, new MemoryBudget(Number.MAX_SAFE_INTEGER));
  process.send!(peakRssMb(process.pid) - before);
}

function measure(path: string): Promise<number> {
  const child = fork(fileURLToPath(import.meta.url), ['--decode', path], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...unitEnvironment() },
    execArgv: unitNodeFlags(),
  });
  return new Promise((resolve, reject) => {
    child.once('message', (mb) => resolve(mb as number));
    child.once('exit', (code) => code !== 0 && reject(new Error(`the decode process exited with ${code}`)));
  });
}

// ---- the list (parent) ----

const IMAGES: { layout: ImageLayout; width: number; height: number; chroma?: '4:4:4'; note: string }[] = [
  { layout: 'baseline-jpeg', width: 1280, height: 720, note: 'a camera frame' },
  { layout: 'baseline-jpeg', width: 4608, height: 3456, note: 'the largest camera frame' },
  { layout: 'progressive-jpeg', width: 4032, height: 3024, note: 'a phone photo' },
  { layout: 'progressive-jpeg', width: 4032, height: 3024, chroma: '4:4:4', note: 'a phone photo, full chroma' },
  { layout: 'baseline-jpeg', width: 8300, height: 8300, note: 'the sweep' },
  { layout: 'progressive-jpeg', width: 8300, height: 8300, note: 'the sweep' },
  { layout: 'png', width: 8300, height: 8300, note: 'the sweep' },
  { layout: 'interlaced-png', width: 8300, height: 8300, note: 'the sweep' },
  { layout: 'png', width: 8300, height: 1000, note: 'short' },
  { layout: 'png', width: 30000, height: 2300, note: 'a panorama' },
  { layout: 'baseline-jpeg', width: 30000, height: 1000, note: 'a panorama' },
];

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-decode-'));
  const rows = [];
  try {
    console.log(`peak RSS of one decode (fresh process each) against decodePlan's estimate; budget ${DEFAULT_DECODE_BUDGET_BYTES / MB} MB\n`);
    for (const [i, image] of IMAGES.entries()) {
      const bytes = await flatImage(image.layout, image.width, image.height, image.chroma);
      const path = join(dir, `${i}.img`);
      writeFileSync(path, bytes);
      const plan = await decodePlan(bytes, DEFAULT_MAX_PIXELS, Number.MAX_SAFE_INTEGER, { width: 640, height: 640 });
      const measured = await measure(path);
      const estimate = plan.costBytes / MB;
      const name = `${image.layout}${image.chroma ? ` ${image.chroma}` : ''} ${image.width}x${image.height} (${image.note})`;
      const verdict = plan.costBytes > DEFAULT_DECODE_BUDGET_BYTES ? 'refused' : 'accepted';
      console.log(`${name.padEnd(58)} ${String(Math.round(bytes.length / 1024)).padStart(5)} KB  measured ${measured.toFixed(0).padStart(4)} MB  estimate ${estimate.toFixed(0).padStart(4)} MB  ${verdict}`);
      rows.push({ image: name, file_kb: Math.round(bytes.length / 1024), measured_mb: Number(measured.toFixed(1)), estimate_mb: Number(estimate.toFixed(1)), accepted: verdict === 'accepted' });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ budget_mb: DEFAULT_DECODE_BUDGET_BYTES / MB, images: rows }));
}

if (process.argv[2] === '--decode') await decodeOnce(process.argv[3]!);
else await main();
