import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../agent/config/load.js';
import type { AgentConfig, CameraEntryConfig, CameraFiltersConfig, ClassFilterOverrides } from '../../agent/config/types.js';
import { cameraProfiles } from '../../agent/vision/camera-profiles.js';

const noFilters = (): CameraFiltersConfig => ({ default: nulls(), person: nulls(), dog: nulls(), cat: nulls(), bear: nulls() });
function nulls(): ClassFilterOverrides {
  return { min_score: null, threshold: null, min_area: null, max_area: null, min_ratio: null, max_ratio: null };
}

function entry(overrides: Partial<CameraEntryConfig> = {}): CameraEntryConfig {
  return { ...defaultConfig().camera, driver: 'rpicam', zones: [], required_zones: [], masks: [], motion_masks: [], alarm_zones: [], filters: noFilters(), ...overrides };
}

describe('cameraProfiles', () => {
  it('has no camera by default, and the one camera of camera: as main, reading the sections themselves', () => {
    const config = defaultConfig();
    expect(cameraProfiles(config)).toEqual([]);
    config.camera.driver = 'rpicam';
    const [main, ...rest] = cameraProfiles(config);
    expect(rest).toEqual([]);
    expect(main).toMatchObject({ name: 'main', topicName: null, driver: config.camera });
    expect(main!.intruder).toBe(config.intruder);
    expect(main!.motion).toBe(config.motion);
    config.alarm.zones = ['door'];
    expect(main!.alarmZones()).toEqual(['door']);
  });

  it('gives each camera of cameras its own zones and masks, and the shared keys as they are now', () => {
    const config: AgentConfig = defaultConfig();
    const path = { name: 'path', points: [[0, 0.5], [1, 0.5], [1, 1]] as [number, number][] };
    const mask = [[0, 0], [0.2, 0], [0.2, 0.1]] as [number, number][];
    config.cameras = { front: entry({ zones: [path], required_zones: ['path'], alarm_zones: ['path'], motion_masks: [mask] }), garage: entry({ index: 1 }), spare: entry({ driver: 'none' }) };
    const [front, garage, ...rest] = cameraProfiles(config);
    expect(rest).toEqual([]);
    expect([front!.name, front!.topicName, garage!.name]).toEqual(['front', 'front', 'garage']);
    expect(front!.driver).toEqual({ ...defaultConfig().camera, driver: 'rpicam' });
    expect(garage!.driver.index).toBe(1);
    expect([front!.intruder.zones, front!.intruder.required_zones, front!.motion.masks, front!.alarmZones()]).toEqual([[path], ['path'], [mask], ['path']]);
    expect([garage!.intruder.zones, garage!.motion.masks, garage!.alarmZones()]).toEqual([[], [], []]);
    // A live change of a shared key (cmd/config/set writes it into the section) reaches every camera.
    config.intruder.clear_after_s = 7;
    config.motion.threshold = 0.05;
    expect([front!.intruder.clear_after_s, garage!.intruder.clear_after_s, front!.motion.threshold]).toEqual([7, 7, 0.05]);
    expect(config.intruder.zones).toEqual([]);
  });

  it("takes a filter value from the camera's class, else the shared class, else the camera's default, else the shared default", () => {
    const config = defaultConfig();
    const filters = noFilters();
    filters.default.threshold = 0.6;
    filters.person.min_score = 0.55;
    config.cameras = { yard: entry({ filters }) };
    const [yard] = cameraProfiles(config);
    const own = yard!.intruder.filters;
    expect(own.person.min_score).toBe(0.55);
    // dog's shared threshold (0.75) was set on purpose: it outranks the camera's looser default.
    expect(own.dog.threshold).toBe(0.75);
    expect(own.person.threshold).toBeNull();
    expect(own.default.threshold).toBe(0.6);
    expect(own.default.min_score).toBe(config.intruder.filters.default.min_score);
  });
});
