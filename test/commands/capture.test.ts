import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { command } from '../../agent/commands/capture.js';
import { edgeAgent, runInProcess } from '../helpers/cli.js';
import { fixture } from '../helpers/fixtures.js';
import sharp from 'sharp';
import { fakePath, processGone, replayFolder, type FakePath } from '../drivers/camera/helpers.js';
import { yuv420Fixtures } from '../drivers/camera/yuv420-fixtures.js';

const bus = readFileSync(fixture('images/bus.jpg'));
const dog = readFileSync(fixture('images/dog.jpg'));
let root: string;
let replay: string;
let out: string;
let fake: FakePath;

/** `edge-agent capture ...args` in this process: quicker than a child for the failures before any frame. */
const captureInProcess = (args: string[]) => runInProcess('capture', command, args);

const fakeEnv = (extra: Record<string, string> = {}) => fake.env({ FAKE_CAMERA_FRAMES: [fixture('images/bus.jpg'), fixture('images/dog.jpg')].join(':'), ...extra });
const written = async () => (await readdir(out)).sort();
const isSource = (file: string) => {
  const bytes = readFileSync(join(out, file));
  return bytes.equals(bus) || bytes.equals(dog);
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'edge-agent-capture-'));
  replay = await replayFolder(join(root, 'replay'), { 'a.jpg': 'images/bus.jpg', 'b.jpg': 'images/dog.jpg' });
});
beforeEach(async () => {
  out = await mkdtemp(join(root, 'out-'));
  fake = await fakePath(['rpicam-vid', 'libcamera-still']);
});
afterEach(async () => {
  await fake.cleanup();
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('edge-agent capture', () => {
  it('writes N replayed frames as numbered JPEG files and prints a summary', async () => {
    const result = await edgeAgent(['capture', '--camera', 'dir', '--dir', replay, '--loop', '--fps', '50', '--frames', '4', '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await written()).toEqual(['frame-000001.jpg', 'frame-000002.jpg', 'frame-000003.jpg', 'frame-000004.jpg']);
    expect(readFileSync(join(out, 'frame-000001.jpg')).equals(bus)).toBe(true);
    expect((await written()).every(isSource)).toBe(true);
    expect(result.stdout).toMatch(new RegExp(`^captured 4 of 4 frames \\(554x740 JPEG\\) from dir in [\\d.]+ s into ${out}: [\\d.]+ fps, \\d+ dropped, 0 restarts\\n$`));
  });

  it('captures from the Raspberry Pi camera (fake rpicam-vid) and leaves no process behind', async () => {
    const args = ['capture', '--camera', 'rpicam', '--format', 'mjpeg', '--width', '640', '--height', '480', '--fps', '20', '--frames', '3', '--out', out];
    const result = await edgeAgent(args, { env: fakeEnv() });
    expect(result.code).toBe(0);
    expect(await written()).toHaveLength(3);
    expect((await written()).every(isSource)).toBe(true);
    const starts = fake.starts();
    expect(starts).toHaveLength(1);
    expect(starts[0]!.argv).toEqual(expect.arrayContaining(['--width', '640', '--height', '480', '--framerate', '20']));
    expect(processGone(starts[0]!.pid)).toBe(true);
  });

  it('encodes raw yuv420 frames (the rpicam default) to JPEG files of the frame size', async () => {
    const [frame] = await yuv420Fixtures([fixture('images/bus.jpg')], 780, 440, root);
    const args = ['capture', '--camera', 'rpicam', '--width', '780', '--height', '440', '--frames', '2', '--out', out];
    const result = await edgeAgent(args, { env: fake.env({ FAKE_CAMERA_FRAMES: frame!.paddedFile }) });
    expect(result.code).toBe(0);
    expect(fake.starts()[0]!.argv.slice(0, 2)).toEqual(['--codec', 'yuv420']);
    const meta = await sharp(join(out, 'frame-000001.jpg')).metadata();
    expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({ format: 'jpeg', width: 780, height: 440 });
    expect(result.stdout).toMatch(/^captured 2 of 2 frames \(780x440 JPEG\) from rpicam/);
  });

  it('captures stills (fake libcamera-still through node-libcamera)', async () => {
    const result = await edgeAgent(['capture', '--camera', 'still', '--still-interval', '0.1', '--frames', '2', '--out', out], { env: fakeEnv() });
    expect(result.code).toBe(0);
    expect(await written()).toHaveLength(2);
    expect((await written()).every(isSource)).toBe(true);
    // One more still may have been under way when the second arrived: it is waited for, not orphaned.
    const starts = fake.starts();
    expect(starts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(starts.map((start) => start.program))).toEqual(new Set(['libcamera-still']));
    for (const start of starts) expect(processGone(start.pid)).toBe(true);
  });

  it('exits 1 when the camera ends before N frames (a replay without loop)', async () => {
    const result = await edgeAgent(['capture', '--camera', 'dir', '--dir', replay, '--no-loop', '--fps', '50', '--frames', '5', '--out', out]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^captured 2 of 5 frames/);
    expect(result.stderr).toBe('edge-agent capture: the camera ended after 2 of 5 frames\n');
    expect(await written()).toHaveLength(2);
  });

  it('exits 69 when no frame comes within --timeout, and stops the capture program', async () => {
    const result = await edgeAgent(['capture', '--camera', 'rpicam', '--format', 'mjpeg', '--frames', '2', '--timeout', '1', '--out', out], { env: fakeEnv({ FAKE_CAMERA_PLAN: 'stall:0' }) });
    expect(result.code).toBe(69);
    expect(result.stderr).toBe('edge-agent capture: only 0 of 2 frames within 1 s\n');
    expect(processGone(fake.starts()[0]!.pid)).toBe(true);
  });

  it('explains what is missing: a program (69), images to replay (66), a folder the configuration names (78)', async () => {
    vi.stubEnv('PATH', join(root, 'nothing-here'));
    try {
      const noProgram = await captureInProcess(['--camera', 'rpicam', '--frames', '1', '--out', out]);
      expect(noProgram.code).toBe(69);
      expect(noProgram.stderr).toMatch(/^edge-agent capture: neither rpicam-vid nor libcamera-vid was found on PATH: install rpicam-apps/);
    } finally {
      vi.unstubAllEnvs();
    }
    const empty = await mkdtemp(join(root, 'empty-'));
    const noImages = await captureInProcess(['--camera', 'dir', '--dir', empty, '--frames', '1', '--out', out]);
    expect(noImages).toMatchObject({ code: 66, stderr: `edge-agent capture: camera.dir ${empty} holds no .jpg, .jpeg or .png images\n` });
    const noDir = await captureInProcess(['--camera', 'dir', '--dir', join(root, 'missing'), '--frames', '1', '--out', out]);
    expect(noDir.code).toBe(78);
    expect(noDir.stderr).toContain(`camera.dir: ${join(root, 'missing')} does not exist [command line]`);
  });

  it('refuses an output folder it cannot create at once (74), /proc included, where a recursive mkdir never returned', async () => {
    const [proc, underFile] = await Promise.all([
      captureInProcess(['--camera', 'dir', '--dir', replay, '--frames', '1', '--out', '/proc/1/nope/frames']),
      captureInProcess(['--camera', 'dir', '--dir', replay, '--frames', '1', '--out', join(replay, 'a.jpg', 'frames')]),
    ]);
    expect(proc).toMatchObject({ code: 74, stdout: '', stderr: 'edge-agent capture: --out: cannot create /proc/1/nope/frames: ENOENT\n' });
    expect(underFile).toMatchObject({ code: 74, stderr: `edge-agent capture: --out: cannot create ${join(replay, 'a.jpg', 'frames')}: ENOTDIR\n` });
  });

  it('rejects bad or missing options with exit status 2 and one line naming the option', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--camera', 'dir', '--out', out], /^--frames N is required$/],
      [['--camera', 'dir', '--frames', '1'], /^--out DIR is required$/],
      [['--frames', '1', '--out', out], /^no camera: pass --camera \(rpicam, still, ffmpeg, dir\) or a --config whose camera.driver is set$/],
      [['--camera', 'webcam', '--frames', '1', '--out', out], /^--camera: "webcam" is not one of rpicam, still, ffmpeg, dir$/],
      [['--camera', 'dir', '--frames', '0', '--out', out], /^--frames: invalid value "0"$/],
      [['--camera', 'rpicam', '--width', 'wide', '--frames', '1', '--out', out], /^--width: invalid value "wide"$/],
      [['--camera', 'ffmpeg', '--input', 'movie.mp4', '--frames', '1', '--out', out], /^camera.input "movie.mp4" is not a V4L2 device/],
      [['--camera', 'dir', '--frames', '1', '--out', out, 'extra'], /^unexpected argument "extra"$/],
    ];
    // In-process for speed; the one CLI run below checks how a usage error reaches the user.
    for (const [args, message] of cases) {
      const failure = await captureInProcess(args);
      expect(failure.code, args.join(' ')).toBe(2);
      const prefix = 'edge-agent capture: ';
      expect(failure.stderr.startsWith(prefix), failure.stderr).toBe(true);
      expect(failure.stderr.slice(prefix.length).trimEnd(), args.join(' ')).toMatch(message);
    }
    const result = await edgeAgent(['capture', '--camera', 'dir', '--frames', '1', '--out', out, '--colour']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("edge-agent capture: Unknown option '--colour'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- \"--colour\"\n");
    expect(await written()).toEqual([]);
  });

  it('checks option values like the configuration file (exit 78, each problem named)', async () => {
    const failure = await captureInProcess(['--camera', 'rpicam', '--width', '8', '--rotation', '90', '--frames', '1', '--out', out]);
    expect(failure.code).toBe(78);
    expect(failure.stderr).toMatch(/camera.width: .*8.*\[command line\]/);
    expect(failure.stderr).toMatch(/camera.rotation: .*\[command line\]/);
  });

  it('takes the camera from --config, with flags on top', async () => {
    const config = join(root, 'config.yaml');
    await writeFile(config, `camera:\n  driver: dir\n  dir: ${replay}\n  fps: 50\n  loop: false\n`);
    const result = await edgeAgent(['capture', '--config', config, '--frames', '1', '--out', out]);
    expect(result.code).toBe(0);
    expect(readFileSync(join(out, 'frame-000001.jpg')).equals(bus)).toBe(true);
    const overridden = await edgeAgent(['capture', '--config', config, '--camera', 'rpicam', '--format', 'mjpeg', '--frames', '1', '--out', out], { env: fakeEnv() });
    expect(overridden.code).toBe(0);
    expect(fake.starts()).toHaveLength(1);
  });

  it('prints its options with --help', async () => {
    const help = await captureInProcess(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: edge-agent capture \[--config FILE\] \[--camera DRIVER\] \[driver options\] --frames N --out DIR\n/);
  });
});
