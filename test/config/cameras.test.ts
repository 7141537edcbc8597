import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../agent/config/load.js';
import { redactConfig } from '../../agent/config/redact.js';
import { configFolder } from './config-folder.js';
import { problemsOf } from './problems.js';

const folder = configFolder();
const load = (yaml: string, env: NodeJS.ProcessEnv = {}) => loadConfig({ file: folder.write('agent.yaml', yaml), env });

const TWO = `
cameras:
  front:
    driver: dir
    dir: front-images
    zones:
      - name: path
        points: [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]
    required_zones: [path]
    alarm_zones: [path]
    filters:
      person: { threshold: 0.8 }
  garage:
    driver: ffmpeg
    input: rtsp://viewer:secret@192.168.1.20/stream1
    fps: 2
`;

describe('several cameras (cameras)', () => {
  it('has none by default', () => {
    expect(load('').cameras).toEqual({});
  });

  it('loads each camera with the camera defaults, its own zones and filters, and its paths beside the file', () => {
    mkdirSync(join(folder.path(), 'front-images'));
    const { cameras } = load(TWO);
    expect(Object.keys(cameras)).toEqual(['front', 'garage']);
    expect(cameras.front).toMatchObject({ driver: 'dir', dir: join(folder.path(), 'front-images'), width: 1280, height: 720, fps: 5, required_zones: ['path'], alarm_zones: ['path'], masks: [], motion_masks: [] });
    expect(cameras.front!.filters.person.threshold).toBe(0.8);
    expect(cameras.front!.filters.default.threshold).toBeNull();
    expect(cameras.garage).toMatchObject({ driver: 'ffmpeg', fps: 2, format: 'yuv420', zones: [] });
  });

  it('redacts a stream password wherever the configuration leaves the device', () => {
    mkdirSync(join(folder.path(), 'front-images'));
    const redacted = redactConfig(load(TWO)) as { cameras: Record<string, { input: string | null; dir: string | null }> };
    expect(redacted.cameras.garage!.input).toBe('rtsp://[redacted]@192.168.1.20/stream1');
    expect(redacted.cameras.front!.dir).toBe(join(folder.path(), 'front-images'));
  });

  it('takes the map from the environment as JSON', () => {
    const config = load('', { EDGE_AGENT_CAMERAS: '{"a": {"driver": "rpicam", "index": 0}, "b": {"driver": "rpicam", "index": 1}}' });
    expect(Object.keys(config.cameras)).toEqual(['a', 'b']);
    expect(config.cameras.b!.index).toBe(1);
  });

  it("refuses a camera's filter that leaves no box, looking values up as the agent does", () => {
    const problems = problemsOf(() =>
      load(`
cameras:
  front:
    driver: rpicam
    filters:
      default: { min_area: 0.5 }
      person: { max_area: 0.3 }
  back:
    driver: rpicam
    index: 1
    filters:
      dog: { min_area: 0.2 }
`),
    );
    // front: person's max_area (0.3, its own) is under the camera's default min_area (0.5); back is fine
    // (dog's min_area 0.2 under the shared max_area 1).
    expect(problems.map((p) => [p.path, p.message])).toEqual([['cameras.front.filters.person.max_area', 'leaves no person box that counts: min_area 0.5 is above max_area 0.3']]);
  });

  it('names every problem with its key path: bad names, missing driver settings, zones, and the one-camera keys mixed in', () => {
    const problems = problemsOf(() =>
      load(`
camera:
  driver: rpicam
intruder:
  zones:
    - name: yard
      points: [[0, 0], [1, 0], [1, 1]]
alarm:
  zones: [yard]
cameras:
  "bad/name":
    driver: none
  front:
    driver: dir
    alarm_zones: [porch]
    fps: 1000
  side:
    driver: rpicam
    index: 0
  back:
    driver: rpicam
    index: 0
  nodriver:
    fps: 2
`),
    );
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p.message]));
    expect(byPath['camera.driver']).toMatch(/must be "none" when cameras lists the cameras/);
    expect(byPath['intruder.zones']).toMatch(/cameras\.<name>\.zones/);
    expect(byPath['alarm.zones']).toMatch(/cameras\.<name>\.alarm_zones/);
    expect(byPath['cameras.bad/name']).toMatch(/is not a valid name: 1 to 32 letters/);
    expect(problems.filter((p) => p.path === 'cameras.bad/name')).toHaveLength(1);
    expect(byPath['cameras.front.dir']).toMatch(/is required with cameras\.front\.driver "dir"/);
    expect(byPath['cameras.front.alarm_zones']).toMatch(/"porch" is not a zone of cameras\.front\.zones/);
    expect(byPath['cameras.front.fps']).toBeDefined();
    expect(byPath['cameras.back.index']).toMatch(/already cameras\.side's/);
    expect(byPath['cameras.nodriver.driver']).toBe('is required');
    // Located in the file: the problem of cameras.front.dir points at the camera's lines.
    expect(problems.find((p) => p.path === 'cameras.front.fps')?.source).toMatch(/agent\.yaml:\d+/);
  });
});
