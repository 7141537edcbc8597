import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../agent/lib/log.js';
import { CameraConfigError, CameraInputError, createCamera, type Camera } from '../../../drivers/camera/index.js';
import { fixture } from '../../helpers/fixtures.js';
import { captureLog } from '../../helpers/log-capture.js';
import { describeCameraContract } from './camera-contract.js';
import { cameraConfig, replayFolder, takeFrames, jpegOf } from './helpers.js';

let root: string;
let replay: string;
const cameras: Camera[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'edge-agent-dir-'));
  replay = await replayFolder(join(root, 'replay'), { '1-bus.jpg': 'images/bus.jpg', '2-cat.png': 'images/cat.png', '3-dog.JPEG': 'images/dog.jpg' });
  await writeFile(join(replay, 'notes.txt'), 'not an image');
});
afterEach(async () => {
  await Promise.all(cameras.splice(0).map((camera) => camera.stop()));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function dirCamera(overrides: Parameters<typeof cameraConfig>[0] = {}, logger = silentLogger()): Camera {
  const camera = createCamera(cameraConfig({ driver: 'dir', dir: replay, loop: true, fps: 20, ...overrides }), { logger });
  cameras.push(camera);
  return camera;
}

describeCameraContract('dir (replay)', () => dirCamera(), { format: 'jpeg', fps: 20 });

describe('dir driver', () => {
  it('replays the images in name order, JPEG files byte for byte and PNG files encoded to JPEG', async () => {
    const camera = dirCamera({ loop: false });
    await camera.start();
    const frames = await takeFrames(camera, 3);
    expect(jpegOf(frames[0]!).equals(readFileSync(fixture('images/bus.jpg')))).toBe(true);
    const cat = await sharp(jpegOf(frames[1]!)).metadata();
    const png = await sharp(fixture('images/cat.png')).metadata();
    expect({ format: cat.format, width: cat.width, height: cat.height }).toEqual({ format: 'jpeg', width: png.width, height: png.height });
    expect(jpegOf(frames[2]!).equals(readFileSync(fixture('images/dog.jpg')))).toBe(true);
    expect(frames.map((frame) => frame.seq)).toEqual([1, 2, 3]);
  });

  it('ends after the last image without loop, and starts again with it', async () => {
    const once = dirCamera({ loop: false, fps: 50 });
    await once.start();
    const seen: number[] = [];
    for await (const frame of once) seen.push(frame.seq);
    expect(seen.at(-1)).toBe(3);
    expect(once.stats().frames).toBe(3);

    const looping = dirCamera({ loop: true, fps: 50 });
    await looping.start();
    const frames = await takeFrames(looping, 5);
    expect(frames.at(-1)!.seq).toBeGreaterThanOrEqual(5);
  });

  it('skips a file that is not a JPEG, warning once, and keeps replaying the rest', async () => {
    const broken = await replayFolder(join(root, 'broken'), { 'b.jpg': 'images/person.jpg' });
    await writeFile(join(broken, 'a.jpg'), 'this is no jpeg');
    const { logger, lines } = captureLog();
    const camera = dirCamera({ dir: broken, loop: true, fps: 50 }, logger);
    await camera.start();
    const frames = await takeFrames(camera, 3);
    const person = readFileSync(fixture('images/person.jpg'));
    expect(frames.every((frame) => jpegOf(frame).equals(person))).toBe(true);
    const warnings = lines.filter((line) => line.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain('a.jpg: not a complete JPEG image');
    expect(camera.stats().last_error).toContain('a.jpg: not a complete JPEG image');
  });

  it('fails to start with a clear error for a missing folder, an empty one, or none at all', async () => {
    const empty = join(root, 'empty');
    await mkdir(empty);
    await expect(dirCamera({ dir: join(root, 'missing') }).start()).rejects.toThrow(CameraInputError);
    await expect(dirCamera({ dir: join(root, 'missing') }).start()).rejects.toThrow(/camera.dir .*missing cannot be read: ENOENT/);
    await expect(dirCamera({ dir: empty }).start()).rejects.toThrow(/camera.dir .*empty holds no .jpg, .jpeg or .png images/);
    await expect(dirCamera({ dir: null }).start()).rejects.toThrow(CameraConfigError);
  });
});
