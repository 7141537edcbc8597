/**
 * The cameras of a configuration, each as what its pipeline reads: the driver's options, and its own
 * view of the `intruder` and `motion` sections with the zones, masks and filters of its frame.
 *
 * A configuration without `cameras` has the one camera of `camera:` (unless its driver is `none`),
 * named `main`; its pipeline reads the sections themselves, so it behaves exactly as a one-camera agent
 * always did (topics, Home Assistant ids, live zone changes). A camera of `cameras` reads its own keys
 * and, for every other key, the shared section at each use: a live change of
 * `intruder.clear_after_s` or `motion.threshold` reaches every camera.
 */
import type { CameraOptions } from '../../drivers/camera/index.js';
import type { AgentConfig, CameraFiltersConfig, ClassFilterOverrides, FiltersConfig, IntruderConfig, MotionConfig } from '../config/types.js';

/** The name of the one camera of `camera:`: in alert payloads, logs, metrics and /health. */
export const SINGLE_CAMERA = 'main';

export interface CameraProfile {
  name: string;
  /** null for the one camera of `camera:` (the topics and Home Assistant ids it always had); else its name. */
  topicName: string | null;
  driver: CameraOptions;
  intruder: IntruderConfig;
  motion: MotionConfig;
  /** The zones whose objects sound the alarm (read at each frame); empty = anywhere. */
  alarmZones: () => readonly string[];
}

export function cameraProfiles(config: AgentConfig): CameraProfile[] {
  const entries = Object.entries(config.cameras);
  if (entries.length === 0) {
    if (config.camera.driver === 'none') return [];
    return [{ name: SINGLE_CAMERA, topicName: null, driver: config.camera, intruder: config.intruder, motion: config.motion, alarmZones: () => config.alarm.zones }];
  }
  return entries
    .filter(([, entry]) => entry.driver !== 'none')
    .map(([name, entry]) => {
      const { zones, required_zones, masks, motion_masks, alarm_zones, filters, ...driver } = entry;
      return {
        name,
        topicName: name,
        driver,
        intruder: layered(config.intruder, { zones, required_zones, masks, filters: cameraFilters(config.intruder.filters, filters) }),
        motion: layered(config.motion, { masks: motion_masks }),
        alarmZones: () => alarm_zones,
      };
    });
}

/**
 * `own` keys over a shared section: every other key is read through to the section at each use (the
 * section is the view's prototype), so live changes of shared keys reach the camera.
 */
function layered<T extends object>(shared: T, own: Partial<T>): T {
  return Object.create(shared, Object.getOwnPropertyDescriptors(own)) as T;
}

/**
 * A camera's filters over `intruder.filters`, key by key: the camera's class value, else the shared
 * class value, else the camera's default, else the shared default (a class value set on purpose, such
 * as dog's stricter threshold, outranks a camera's looser default).
 */
function cameraFilters(shared: FiltersConfig, own: CameraFiltersConfig): FiltersConfig {
  const over = <T extends { [K in keyof ClassFilterOverrides]: number | null }>(top: ClassFilterOverrides, base: T): T => {
    const merged = { ...base };
    for (const key of Object.keys(base) as (keyof ClassFilterOverrides)[]) merged[key] = (top[key] ?? base[key]) as T[typeof key];
    return merged;
  };
  return {
    default: over(own.default, shared.default),
    person: over(own.person, shared.person),
    dog: over(own.dog, shared.dog),
    cat: over(own.cat, shared.cat),
    bear: over(own.bear, shared.bear),
  };
}
