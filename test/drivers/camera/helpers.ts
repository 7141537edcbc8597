/** Test helpers for the camera drivers: fake programs on PATH, captured logs, frame reading. */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CameraConfig } from '../../../agent/config/types.js';
import { packageRoot } from '../../../agent/lib/paths.js';
import { fixture } from '../../helpers/fixtures.js';
import type { Camera, Frame } from '../../../drivers/camera/types.js';

export const fakeBin = join(packageRoot(), 'test', 'fakes', 'bin');

export function cameraConfig(overrides: Partial<CameraConfig> = {}): CameraConfig {
  return {
    driver: 'rpicam',
    // The MJPEG path unless a test asks for yuv420 (those tests need frames made for their size).
    format: 'mjpeg',
    width: 640,
    height: 480,
    fps: 20,
    rotation: 0,
    hflip: false,
    vflip: false,
    index: 0,
    dir: null,
    loop: false,
    input: null,
    stall_timeout_s: 2,
    still_interval_s: 0.1,
    ...overrides,
  };
}

/** Short restart timing so failure tests take well under a second each. */
export const fastTiming = { backoff: { baseMs: 50, maxMs: 400 }, killTimeoutMs: 300 };

export interface FakePath {
  /** A folder holding only `node` and the chosen fake programs: a hermetic PATH. */
  dir: string;
  /** Run log of the fakes (one JSON line per start). */
  log: string;
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
  starts(): FakeStart[];
  cleanup(): Promise<void>;
}

export interface FakeStart {
  program: string;
  pid: number;
  argv: string[];
  run: number;
  behaviour: string;
  t: number;
}

/**
 * Makes a PATH with only the given fake programs (links to test/fakes/bin) and node, so a real
 * rpicam-vid or ffmpeg installed on the machine can never be picked up by mistake.
 */
export async function fakePath(programs: string[]): Promise<FakePath> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-agent-fakebin-'));
  await symlink(process.execPath, join(dir, 'node'));
  for (const program of programs) await symlink(join(fakeBin, program), join(dir, program));
  const log = join(dir, 'starts.jsonl');
  return {
    dir,
    log,
    env: (extra = {}) => ({ PATH: dir, FAKE_CAMERA_LOG: log, ...extra }),
    starts: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as FakeStart) : []),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * Makes `dir` a replay folder: `files` maps each file name (the names give the order) to a fixture path.
 * Links, not copies: the fixtures stay where they are.
 */
export async function replayFolder(dir: string, files: Record<string, string>): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const [name, path] of Object.entries(files)) await symlink(fixture(path), join(dir, name));
  return dir;
}

/** True once the process is gone and reaped (a zombie still answers signal 0). */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Reads `n` frames, failing with a clear message if they do not come within `timeoutMs`. */
export async function takeFrames(camera: Camera, n: number, timeoutMs = 10_000): Promise<Frame[]> {
  const frames: Frame[] = [];
  const iterator = camera[Symbol.asyncIterator]();
  const deadline = Date.now() + timeoutMs;
  while (frames.length < n) {
    const left = deadline - Date.now();
    const result = await Promise.race([iterator.next(), sleep(Math.max(0, left)).then(() => 'timeout' as const)]);
    if (result === 'timeout') throw new Error(`only ${frames.length} of ${n} frames from ${camera.name} within ${timeoutMs} ms: ${JSON.stringify(camera.stats())}`);
    if (result.done) throw new Error(`${camera.name} ended after ${frames.length} of ${n} frames: ${JSON.stringify(camera.stats())}`);
    frames.push(result.value);
  }
  return frames;
}

/** The frame's JPEG bytes; throws when the frame is not a JPEG. */
export function jpegOf(frame: Frame): Buffer {
  if (frame.image.format !== 'jpeg') throw new Error(`frame ${frame.seq} is ${frame.image.format}, not JPEG`);
  return frame.image.data;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A copy of `jpeg` with an EXIF APP1 segment holding `thumbnail` (a complete JPEG, with its own SOI and
 * EOI) where a camera puts it: IFD1's JPEGInterchangeFormat, as in the EXIF 2.3 layout.
 */
export function withExifThumbnail(jpeg: Buffer, thumbnail: Buffer): Buffer {
  const tiff = Buffer.alloc(8 + 6 + 2 + 2 * 12 + 4);
  tiff.write('II', 0, 'latin1');
  tiff.writeUInt16LE(42, 2);
  tiff.writeUInt32LE(8, 4); // IFD0 at 8
  tiff.writeUInt16LE(0, 8); // IFD0: no entries
  tiff.writeUInt32LE(14, 10); // next IFD (IFD1) at 14
  tiff.writeUInt16LE(2, 14); // IFD1: two entries
  const thumbOffset = tiff.length;
  const entry = (at: number, tag: number, value: number) => {
    tiff.writeUInt16LE(tag, at);
    tiff.writeUInt16LE(4, at + 2); // LONG
    tiff.writeUInt32LE(1, at + 4);
    tiff.writeUInt32LE(value, at + 8);
  };
  entry(16, 0x0201, thumbOffset); // JPEGInterchangeFormat
  entry(28, 0x0202, thumbnail.length); // JPEGInterchangeFormatLength
  tiff.writeUInt32LE(0, 40); // no next IFD
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff, thumbnail]);
  const header = Buffer.from([0xff, 0xe1, 0, 0]);
  header.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), header, body, jpeg.subarray(2)]);
}
