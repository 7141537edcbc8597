/**
 * Still mode against fake libcamera-still / rpicam-still programs. node-libcamera runs its command
 * through a shell that inherits this process's environment, so PATH and the fakes' settings are set with
 * vi.stubEnv (undone after each test; vitest runs each test file in its own process).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../agent/lib/log.js';
import { CAMERA_PROGRAMS, CameraConfigError, CameraUnavailableError, createCamera, type Camera } from '../../../drivers/camera/index.js';
import { fixture } from '../../helpers/fixtures.js';
import { describeCameraContract } from './camera-contract.js';
import { cameraConfig, fakePath, fastTiming, processGone, takeFrames, type FakePath, jpegOf } from './helpers.js';

const jpegFiles = [fixture('images/bus.jpg'), fixture('images/dog.jpg')];
let fake: FakePath;
let workRoot: string;
const cameras: Camera[] = [];

/** Puts the fake programs first (and alone) on PATH, and stills under a TMPDIR this test owns. */
async function useFakes(programs: string[], env: Record<string, string> = {}): Promise<void> {
  fake = await fakePath(programs);
  for (const [key, value] of Object.entries(fake.env({ FAKE_CAMERA_FRAMES: jpegFiles.join(':'), ...env }))) vi.stubEnv(key, value);
}

beforeEach(async () => {
  workRoot = await mkdtemp(join(tmpdir(), 'edge-agent-still-test-'));
  vi.stubEnv('TMPDIR', workRoot);
  await useFakes(['libcamera-still']);
});
afterEach(async () => {
  await Promise.all(cameras.splice(0).map((camera) => camera.stop()));
  vi.unstubAllEnvs();
  await fake.cleanup();
  await rm(workRoot, { recursive: true, force: true });
});

function stillCamera(overrides: Parameters<typeof cameraConfig>[0] = {}): Camera {
  const camera = createCamera(cameraConfig({ driver: 'still', still_interval_s: 0.1, ...overrides }), { logger: silentLogger(), timing: fastTiming });
  cameras.push(camera);
  return camera;
}

const stillFolders = async (dir: string) => (await readdir(dir)).filter((name) => name.startsWith('edge-agent-still-'));

async function nothingLeftBehind(): Promise<void> {
  for (const start of fake.starts()) expect(processGone(start.pid)).toBe(true);
  expect(await stillFolders(workRoot)).toEqual([]);
}

// At most 10 stills a second (0.1 s interval).
describeCameraContract('still (fake libcamera-still through node-libcamera)', () => stillCamera(), { format: 'jpeg', fps: 10, afterStop: nothingLeftBehind });

describe('still driver', () => {
  it('takes stills with node-libcamera into a private folder, reads them back bit-exact and cleans up', async () => {
    const camera = stillCamera();
    await camera.start();
    const frames = await takeFrames(camera, 2);
    const expected = jpegFiles.map((file) => readFileSync(file));
    for (const frame of frames) expect(expected.some((jpeg) => jpeg.equals(jpegOf(frame)))).toBe(true);
    const [first] = fake.starts();
    expect(first!.program).toBe('libcamera-still');
    const output = first!.argv[1]!;
    expect(first!.argv).toEqual(['--output', output, '--timeout', '1000', '--nopreview', '--encoding', 'jpg', '--width', '640', '--height', '480']);
    expect(dirname(output)).toMatch(new RegExp(`^${workRoot}/edge-agent-still-[A-Za-z0-9]{6}$`));
    expect(statSync(dirname(output)).mode & 0o777).toBe(0o700);
    await camera.stop();
    await nothingLeftBehind();
  });

  it('passes camera index, rotation and flips as options', async () => {
    vi.stubEnv('FAKE_CAMERA_COUNT', '2');
    const camera = stillCamera({ index: 1, rotation: 180, hflip: true, vflip: true, width: 1024, height: 768 });
    await camera.start();
    await takeFrames(camera, 1);
    expect(fake.starts()[0]!.argv.slice(2)).toEqual([
      ...['--timeout', '1000', '--nopreview', '--encoding', 'jpg', '--width', '1024', '--height', '768'],
      ...['--camera', '1', '--rotation', '180', '--hflip', '--vflip'],
    ]);
  });

  it('prefers rpicam-still when both names are installed (Bookworm, where libcamera-still links to it), in the order doctor checks', async () => {
    await fake.cleanup();
    await useFakes(['libcamera-still', 'rpicam-still']);
    const camera = stillCamera();
    await camera.start();
    await takeFrames(camera, 2);
    expect(new Set(fake.starts().map((start) => start.program))).toEqual(new Set(['rpicam-still']));
    expect(CAMERA_PROGRAMS.still).toEqual(['rpicam-still', 'libcamera-still']);
  });

  it('runs rpicam-still directly (no shell) on systems without the libcamera-still name', async () => {
    await fake.cleanup();
    await useFakes(['rpicam-still']);
    const camera = stillCamera();
    await camera.start();
    await takeFrames(camera, 2);
    expect(fake.starts().map((start) => start.program)).toContain('rpicam-still');
    expect(fake.starts()[0]!.argv.slice(2)).toEqual(['--timeout', '1000', '--nopreview', '--encoding', 'jpg', '--width', '640', '--height', '480']);
  });

  it('retries a failed still after a backoff and keeps what the program said', async () => {
    vi.stubEnv('FAKE_CAMERA_PLAN', 'fail,ok');
    const camera = stillCamera();
    await camera.start();
    await takeFrames(camera, 1);
    const stats = camera.stats();
    expect(stats.restarts).toBe(1);
    expect(stats.last_error).toContain('no cameras available');
    expect(stats.last_error).not.toContain('\n');
  });

  it('rejects an output that is not a JPEG', async () => {
    vi.stubEnv('FAKE_CAMERA_PLAN', 'garbage,ok');
    const camera = stillCamera();
    await camera.start();
    await takeFrames(camera, 1);
    expect(camera.stats().last_error).toBe('libcamera-still wrote 17 bytes that are not a complete JPEG');
  });

  it('kills an rpicam-still that hangs past the stall timeout and carries on', async () => {
    await fake.cleanup();
    await useFakes(['rpicam-still'], { FAKE_CAMERA_PLAN: 'hang,ok' });
    const camera = stillCamera({ stall_timeout_s: 2 });
    await camera.start();
    await takeFrames(camera, 1);
    expect(camera.stats().last_error).toMatch(/^rpicam-still gave no image within 2 s/);
    await expect.poll(() => processGone(fake.starts()[0]!.pid), { message: 'the hung rpicam-still is gone' }).toBe(true);
  });

  it('never starts a second libcamera-still beside one that hangs (node-libcamera cannot kill it), and still stops', async () => {
    vi.stubEnv('FAKE_CAMERA_PLAN', 'hang');
    const camera = stillCamera({ stall_timeout_s: 1 });
    await camera.start();
    await expect.poll(() => camera.stats().last_error, { message: 'the wait for the hung still gave up' }).toMatch(/previous libcamera-still is still running/);
    const [hung, ...more] = fake.starts();
    expect(more).toEqual([]);
    try {
      const stopping = Date.now();
      await camera.stop();
      expect(Date.now() - stopping).toBeLessThan(5000);
      expect(await stillFolders(workRoot)).toEqual([]);
    } finally {
      // The agent cannot end it: the test does, as a person would.
      process.kill(hung!.pid, 'SIGKILL');
      await expect.poll(() => processGone(hung!.pid), { message: 'the hung fake is gone' }).toBe(true);
    }
  });

  it('refuses a temporary folder whose name a shell would interpret, before running anything', async () => {
    const hostile = join(workRoot, 'x;touch PWNED;');
    await mkdir(hostile);
    vi.stubEnv('TMPDIR', hostile);
    const failure = stillCamera().start();
    await expect(failure).rejects.toThrow(CameraConfigError);
    await expect(failure).rejects.toThrow(/has characters a shell would interpret/);
    expect(fake.starts()).toEqual([]);
    expect(existsSync('PWNED')).toBe(false);
    expect(await stillFolders(hostile)).toEqual([]);
  });

  it('fails to start with a clear error when neither program is installed', async () => {
    await fake.cleanup();
    await useFakes([]);
    const failure = stillCamera().start();
    await expect(failure).rejects.toThrow(CameraUnavailableError);
    await expect(failure).rejects.toThrow(/neither rpicam-still nor libcamera-still was found on PATH/);
  });
});
