/**
 * Plane geometry of zones and masks. Their polygons are in fractions (0..1) of the frame's width and
 * height, so a configuration survives a change of camera resolution; boxes are in frame pixels.
 */
import type { BoundingBox } from '../../models/types.js';
import type { FramePoint, FramePolygon } from '../config/types.js';

/**
 * Whether `point` lies inside `polygon`, by the even-odd rule (a ray from the point crosses the outline
 * an odd number of times): a self-intersecting outline is accepted and its overlapping lobes cancel, as
 * when an SVG `fill-rule="evenodd"` draws it on the status page.
 */
export function insidePolygon([x, y]: FramePoint, polygon: readonly FramePoint[]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i]!;
    const [xj, yj] = polygon[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function insideAny(point: FramePoint, polygons: readonly FramePolygon[]): boolean {
  return polygons.some((polygon) => insidePolygon(point, polygon));
}

/** The area a polygon encloses (shoelace formula), in the square of its units. */
export function polygonArea(polygon: readonly FramePoint[]): number {
  let twice = 0;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    twice += (polygon[j]![0] + polygon[i]![0]) * (polygon[j]![1] - polygon[i]![1]);
  }
  return Math.abs(twice) / 2;
}

/**
 * The middle of a box's bottom edge, as fractions of the frame: where an object stands. Zones and
 * object masks test this point (Frigate's convention), so a person whose head crosses into a zone
 * drawn on the ground is not yet in it.
 */
export function bottomCentre(box: BoundingBox, frame: { width: number; height: number }): FramePoint {
  return [(box.xmin + box.xmax) / 2 / frame.width, box.ymax / frame.height];
}
