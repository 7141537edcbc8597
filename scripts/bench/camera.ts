/**
 * What the camera drivers cost the agent's process:
 * 1. the MJPEG splitter alone: MB/s and frames/s over real photos, in 4 KiB and 64 KiB chunks (a pipe
 *    delivers up to 64 KiB at a time);
 * 2. end to end: the fake rpicam-vid (test/fakes/bin) streaming real JPEGs at 30 and 60 fps (camera.fps's ceiling) through
 *    the supervisor, the splitter and the latest-frame mailbox to a reader; CPU time of this process per
 *    frame (the fake's own CPU is not counted: on a Pi it is rpicam-vid's encoder);
 * 3. the same with raw 1280x720 yuv420 frames (the rpicam default; made from the photos with ffmpeg)
 *    at 10 and 30 fps: 1.4 MB a frame through the pipe, cut by byte count.
 *
 *   npm run bench:camera [-- --seconds 5]
 *
 * Fixtures come from ../shared/fixtures (or EDGE_AGENT_FIXTURES).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { silentLogger } from '../../agent/lib/log.js';
import { packageRoot } from '../../agent/lib/paths.js';
import { createCamera } from '../../drivers/camera/index.js';
import { JpegStreamSplitter } from '../../drivers/camera/jpeg-splitter.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' } } });
const seconds = Number(values.seconds);
const fixtures = resolve(process.env.EDGE_AGENT_FIXTURES ?? join(packageRoot(), '..', 'shared', 'fixtures'));
const images = ['bus.jpg', 'dog.jpg', 'person.jpg'].map((name) => join(fixtures, 'images', name));
for (const image of images) {
  if (!existsSync(image)) throw new Error(`missing fixture ${image}: clone the project beside shared/ or set EDGE_AGENT_FIXTURES`);
}

function benchSplitter(chunkBytes: number): { mb_per_s: number; frames_per_s: number } {
  const frames = images.map((file) => readFileSync(file));
  const one = Buffer.concat(frames);
  const stream = Buffer.concat(Array.from({ length: Math.ceil((64 * 1024 * 1024) / one.length) }, () => one));
  const runs: number[] = [];
  let count = 0;
  for (let run = 0; run < 3; run++) {
    const splitter = new JpegStreamSplitter();
    count = 0;
    const started = performance.now();
    for (let at = 0; at < stream.length; at += chunkBytes) count += splitter.push(stream.subarray(at, at + chunkBytes)).length;
    runs.push(performance.now() - started);
  }
  const ms = runs.sort((a, b) => a - b)[1]!;
  return { mb_per_s: Math.round(stream.length / 1e6 / (ms / 1000)), frames_per_s: Math.round(count / (ms / 1000)) };
}

const RAW = { width: 1280, height: 720 };

/** The photos as full-range 1280x720 yuv420 frames in `dir` (1280 is a multiple of 64: no row padding). */
async function yuv420Files(dir: string): Promise<string[]> {
  const filter = `scale=${RAW.width}:${RAW.height}:force_original_aspect_ratio=decrease:force_divisible_by=2:out_range=full,pad=${RAW.width}:${RAW.height}:-1:-1`;
  return Promise.all(
    images.map(async (image, i) => {
      const args = ['-hide_banner', '-loglevel', 'error', '-i', image, '-frames:v', '1', '-vf', filter, '-pix_fmt', 'yuv420p', '-f', 'rawvideo', 'pipe:1'];
      const file = join(dir, `${i}.yuv`);
      await writeFile(file, execFileSync('ffmpeg', args, { maxBuffer: 64 * 1024 * 1024 }));
      return file;
    }),
  );
}

async function benchStream(fps: number, format: 'mjpeg' | 'yuv420'): Promise<Record<string, number | string>> {
  const bin = await mkdtemp(join(tmpdir(), 'edge-agent-bench-camera-'));
  try {
    const size = format === 'yuv420' ? RAW : { width: 640, height: 480 };
    const frames = format === 'yuv420' ? await yuv420Files(bin) : images;
    await symlink(process.execPath, join(bin, 'node'));
    await symlink(join(packageRoot(), 'test', 'fakes', 'bin', 'rpicam-vid'), join(bin, 'rpicam-vid'));
    const camera = createCamera(
      { driver: 'rpicam', format, ...size, fps, rotation: 0, hflip: false, vflip: false, index: 0, dir: null, loop: false, input: null, stall_timeout_s: 10, still_interval_s: 1 },
      { logger: silentLogger(), env: { PATH: bin, FAKE_CAMERA_FRAMES: frames.join(':'), FAKE_CAMERA_CHUNK_MAX: '65536' } },
    );
    await camera.start();
    const iterator = camera[Symbol.asyncIterator]();
    await iterator.next(); // the process is up and streaming
    const cpuBefore = process.cpuUsage();
    const framesBefore = camera.stats().frames;
    const started = performance.now();
    let read = 0;
    while (performance.now() - started < seconds * 1000) {
      const next = await iterator.next();
      if (next.done) break;
      read++;
    }
    const elapsed = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const stats = camera.stats();
    await camera.stop();
    const produced = stats.frames - framesBefore;
    const cpuMs = (cpu.user + cpu.system) / 1000;
    return {
      format,
      size: `${size.width}x${size.height}`,
      fps_requested: fps,
      fps_delivered: Math.round((produced / elapsed) * 10) / 10,
      frames_read: read,
      cpu_ms_per_frame: Math.round((cpuMs / produced) * 100) / 100,
      cpu_percent_of_one_core: Math.round((cpuMs / 10 / elapsed) * 10) / 10,
    };
  } finally {
    await rm(bin, { recursive: true, force: true });
  }
}

console.log(JSON.stringify({ bench: 'camera-splitter', chunk_bytes: 4096, ...benchSplitter(4096) }));
console.log(JSON.stringify({ bench: 'camera-splitter', chunk_bytes: 65536, ...benchSplitter(65536) }));
for (const fps of [30, 60]) console.log(JSON.stringify({ bench: 'camera-rpicam-fake', seconds, ...(await benchStream(fps, 'mjpeg')) }));
for (const fps of [10, 30]) console.log(JSON.stringify({ bench: 'camera-rpicam-fake', seconds, ...(await benchStream(fps, 'yuv420')) }));
