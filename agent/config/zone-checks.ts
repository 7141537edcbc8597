/**
 * Checks of zones and masks that the schema cannot express: names that must be unique or defined,
 * classes that must be intruder classes, polygons that must enclose an area. They look only at values
 * of the right shape (the schema reports the others), and report every problem with its key path.
 */
import { polygonArea } from '../vision/geometry.js';
import type { FramePoint } from './types.js';
import type { KeyPath, Obj, ReportAt as Report } from './config-values.js';

/** Smaller than one pixel of a 640x480 frame: a polygon drawn as a line, or with repeated points. */
const MIN_POLYGON_AREA = 1 / (640 * 480);

function isPolygon(value: unknown): value is FramePoint[] {
  return Array.isArray(value) && value.every((p) => Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === 'number'));
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function polygonProblems(polygon: unknown, path: KeyPath, report: Report): void {
  if (isPolygon(polygon) && polygon.length >= 3 && polygonArea(polygon) < MIN_POLYGON_AREA) {
    report(path, 'encloses no area (its points lie on one line or repeat): draw at least three corners of an area');
  }
}

/** A key's value and where it is (`['cameras', 'front', 'zones']`). */
export interface KeyAt {
  path: KeyPath;
  value: unknown;
}

/** The zone and mask keys of one camera's frame. */
export interface ZoneKeys {
  zones: KeyAt;
  /** Lists of zone names that must be zones of `zones` (required zones, alarm zones). */
  references: KeyAt[];
  /** Lists of polygons. */
  masks: KeyAt[];
}

const dotted = (path: Readonly<KeyPath>) => path.join('.');

export function zoneProblems(keys: ZoneKeys, classes: readonly string[], report: Report): void {
  const zones = Array.isArray(keys.zones.value) ? (keys.zones.value as unknown[]) : [];
  const names = new Map<string, number>();
  for (const [i, zone] of zones.entries()) {
    if (typeof zone !== 'object' || zone === null) continue;
    const at = [...keys.zones.path, i];
    const { name, points, classes: zoneClasses } = zone as Obj;
    if (typeof name === 'string') {
      const first = names.get(name);
      if (first !== undefined) report([...at, 'name'], `"${name}" is already the name of ${dotted(keys.zones.path)}[${first}]: zone names must be unique`);
      else names.set(name, i);
    }
    polygonProblems(points, [...at, 'points'], report);
    for (const label of strings(zoneClasses)) {
      if (classes.length > 0 && !classes.includes(label)) {
        report([...at, 'classes'], `"${label}" is not an intruder class (intruder.classes: ${classes.join(', ')}), so it would never be in this zone`);
      }
    }
  }
  const defined = names.size > 0 ? `defined: ${[...names.keys()].join(', ')}` : `${dotted(keys.zones.path)} defines none`;
  for (const reference of keys.references) {
    for (const name of strings(reference.value)) {
      if (!names.has(name)) report(reference.path, `"${name}" is not a zone of ${dotted(keys.zones.path)} (${defined})`);
    }
  }
  for (const masks of keys.masks) {
    for (const [i, mask] of (Array.isArray(masks.value) ? (masks.value as unknown[]) : []).entries()) polygonProblems(mask, [...masks.path, i], report);
  }
}
