/**
 * Checks of zones and masks that the schema cannot express: names that must be unique or defined,
 * classes that must be intruder classes, polygons that must enclose an area. They look only at values
 * of the right shape (the schema reports the others), and report every problem with its key path.
 */
import { polygonArea } from '../vision/geometry.js';
import type { FramePoint } from './types.js';

type Obj = Record<string, unknown>;
type Report = (path: (string | number)[], message: string) => void;

/** Smaller than one pixel of a 640x480 frame: a polygon drawn as a line, or with repeated points. */
const MIN_POLYGON_AREA = 1 / (640 * 480);

function isPolygon(value: unknown): value is FramePoint[] {
  return Array.isArray(value) && value.every((p) => Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === 'number'));
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function polygonProblems(polygon: unknown, path: (string | number)[], report: Report): void {
  if (isPolygon(polygon) && polygon.length >= 3 && polygonArea(polygon) < MIN_POLYGON_AREA) {
    report(path, 'encloses no area (its points lie on one line or repeat): draw at least three corners of an area');
  }
}

export function zoneProblems(intruder: Obj, alarm: Obj, motion: Obj, report: Report): void {
  const zones = Array.isArray(intruder.zones) ? (intruder.zones as unknown[]) : [];
  const classes = strings(intruder.classes);
  const names = new Map<string, number>();
  for (const [i, zone] of zones.entries()) {
    if (typeof zone !== 'object' || zone === null) continue;
    const { name, points, classes: zoneClasses } = zone as Obj;
    if (typeof name === 'string') {
      const first = names.get(name);
      if (first !== undefined) report(['intruder', 'zones', i, 'name'], `"${name}" is already the name of intruder.zones[${first}]: zone names must be unique`);
      else names.set(name, i);
    }
    polygonProblems(points, ['intruder', 'zones', i, 'points'], report);
    for (const label of strings(zoneClasses)) {
      if (classes.length > 0 && !classes.includes(label)) {
        report(['intruder', 'zones', i, 'classes'], `"${label}" is not an intruder class (intruder.classes: ${classes.join(', ')}), so it would never be in this zone`);
      }
    }
  }
  const defined = names.size > 0 ? `defined: ${[...names.keys()].join(', ')}` : 'intruder.zones defines none';
  for (const [path, section] of [[['intruder', 'required_zones'], intruder.required_zones], [['alarm', 'zones'], alarm.zones]] as const) {
    for (const name of strings(section)) {
      if (!names.has(name)) report([...path], `"${name}" is not a zone of intruder.zones (${defined})`);
    }
  }
  for (const [key, section] of [['intruder', intruder], ['motion', motion]] as const) {
    const masks = Array.isArray(section.masks) ? (section.masks as unknown[]) : [];
    for (const [i, mask] of masks.entries()) polygonProblems(mask, [key, 'masks', i], report);
  }
}
