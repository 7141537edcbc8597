/**
 * Which zones a tracked object is in. An object enters a zone once its bottom centre has been inside
 * it on `inertia` consecutive frames (one stray box does not put a passer-by in the driveway) and
 * leaves it on the first frame it is seen outside. `entered` keeps every zone the object has been in,
 * which is what `intruder.required_zones` asks about: someone who walked through the garden gate stays
 * an intruder when they step back onto the path.
 */
import type { FramePoint, ZoneConfig } from '../config/types.js';
import { insidePolygon } from './geometry.js';

/** Frigate's default: three frames inside before an object counts as in a zone. */
export const DEFAULT_ZONE_INERTIA = 3;

export interface ZonePresence {
  /** Consecutive frames inside, by zone name. */
  streaks: Map<string, number>;
  /** Zones it is in now. */
  current: string[];
  /** Zones it has ever been in. */
  entered: Set<string>;
}

export function newZonePresence(): ZonePresence {
  return { streaks: new Map(), current: [], entered: new Set() };
}

/** Whether the zone counts objects of this class (no `classes`, or an empty list: every class). */
export function zoneCounts(zone: ZoneConfig, label: string): boolean {
  return !zone.classes || zone.classes.length === 0 || zone.classes.includes(label);
}

/** Moves `presence` on by one frame on which the object of class `label` stands at `point`. */
export function placeInZones(presence: ZonePresence, zones: readonly ZoneConfig[], label: string, point: FramePoint): void {
  const current: string[] = [];
  for (const zone of zones) {
    const inside = zoneCounts(zone, label) && insidePolygon(point, zone.points);
    const streak = inside ? (presence.streaks.get(zone.name) ?? 0) + 1 : 0;
    presence.streaks.set(zone.name, streak);
    if (streak >= (zone.inertia ?? DEFAULT_ZONE_INERTIA)) {
      current.push(zone.name);
      presence.entered.add(zone.name);
    }
  }
  presence.current = current;
}

/** Whether an object that has entered `entered` may alert: required zones empty, or one of them entered. */
export function inRequiredZone(entered: ReadonlySet<string>, required: readonly string[]): boolean {
  return required.length === 0 || required.some((name) => entered.has(name));
}

/** Whether an object now in `current` may sound the alarm: alarm zones empty, or in one of them. */
export function inAlarmZone(current: readonly string[], alarmZones: readonly string[]): boolean {
  return alarmZones.length === 0 || current.some((name) => alarmZones.includes(name));
}
