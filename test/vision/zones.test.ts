import { describe, expect, it } from 'vitest';
import { bottomCentre, insidePolygon, polygonArea } from '../../agent/vision/geometry.js';
import { IntrusionTracker, type FrameOutcome } from '../../agent/vision/intrusion-tracker.js';
import { ObjectTracker } from '../../agent/vision/object-tracker.js';
import { newZonePresence, placeInZones } from '../../agent/vision/zones.js';
import type { FramePolygon, IntruderConfig, ZoneConfig } from '../../agent/config/types.js';
import type { DetectedObject } from '../../models/types.js';

const FILTER = { min_score: 0.5, threshold: 0.7, min_area: 0, max_area: 1, min_ratio: 0, max_ratio: 100 };
/** The right half of the frame, and its bottom-right quarter. */
const RIGHT: FramePolygon = [[0.5, 0], [1, 0], [1, 1], [0.5, 1]];
const CORNER: FramePolygon = [[0.5, 0.5], [1, 0.5], [1, 1], [0.5, 1]];

/** A person 100 px wide standing with feet at (x, y) on a 1000 x 1000 frame. */
function personAt(x: number, y: number, confidence = 0.9, cls = 'person'): DetectedObject {
  return { class: cls, confidence, bbox: { xmin: x - 50, ymin: y - 200, xmax: x + 50, ymax: y } };
}

/**
 * Trackers on a fake clock (frame n at n * 500 ms, 1000 x 1000) reading a mutable zone configuration,
 * as the daemon's do: a live change applies at the next frame.
 */
function rig(zones: Partial<Pick<IntruderConfig, 'zones' | 'required_zones' | 'masks'>> = {}) {
  const config = { clear_after_s: 10, cooldown_s: 5, zones: [] as ZoneConfig[], required_zones: [] as string[], masks: [] as FramePolygon[], ...zones };
  let ids = 0;
  const objects = new ObjectTracker(
    { min_frames: 3, expire_after_s: 5, stationary_after_s: 60, stationary_tolerance: 0.1, filterFor: () => FILTER, zones: () => config.zones, masks: () => config.masks },
    () => `t${++ids}`,
  );
  const tracker = new IntrusionTracker(config, objects, () => 'ev-1');
  let seq = 0;
  const at = (...detections: DetectedObject[]): FrameOutcome => tracker.observe(detections, { seq: ++seq, ts: seq * 500, width: 1000, height: 1000 });
  at(); // an empty first frame: what comes later was not there at start
  return { config, objects, tracker, at };
}

describe('geometry', () => {
  it('tells inside from outside of convex, concave and self-intersecting polygons', () => {
    expect(insidePolygon([0.75, 0.25], RIGHT)).toBe(true);
    expect(insidePolygon([0.25, 0.25], RIGHT)).toBe(false);
    // An L: the notch at the top right is outside.
    const ell: FramePolygon = [[0, 0], [0.5, 0], [0.5, 0.5], [1, 0.5], [1, 1], [0, 1]];
    expect(insidePolygon([0.75, 0.25], ell)).toBe(false);
    expect(insidePolygon([0.75, 0.75], ell)).toBe(true);
    expect(insidePolygon([0.25, 0.25], ell)).toBe(true);
    // A bow tie crossing at the centre: its left and right lobes are inside, above and below the crossing is not.
    const bowTie: FramePolygon = [[0, 0], [1, 1], [1, 0], [0, 1]];
    expect(insidePolygon([0.2, 0.5], bowTie)).toBe(true);
    expect(insidePolygon([0.8, 0.5], bowTie)).toBe(true);
    expect(insidePolygon([0.5, 0.2], bowTie)).toBe(false);
  });

  it('measures areas and finds where a box stands', () => {
    expect(polygonArea(RIGHT)).toBeCloseTo(0.5);
    expect(polygonArea([[0, 0], [0.5, 0.5], [1, 1]])).toBe(0);
    expect(bottomCentre({ xmin: 100, ymin: 0, xmax: 300, ymax: 450 }, { width: 1000, height: 500 })).toEqual([0.2, 0.9]);
  });
});

describe('zone presence', () => {
  const zone: ZoneConfig = { name: 'yard', points: RIGHT, inertia: 3 };

  it('enters a zone after `inertia` consecutive frames inside, leaves on the first frame outside, remembers having been in', () => {
    const presence = newZonePresence();
    const step = (x: number) => placeInZones(presence, [zone], 'person', [x, 0.5]);
    step(0.7);
    step(0.7);
    expect(presence.current).toEqual([]);
    step(0.7);
    expect(presence.current).toEqual(['yard']);
    step(0.2);
    expect(presence.current).toEqual([]);
    expect([...presence.entered]).toEqual(['yard']);
    // A stray frame inside does not count as being back: the streak starts again.
    step(0.7);
    expect(presence.current).toEqual([]);
  });

  it('counts only the zone classes, and every class without a list', () => {
    const dogsOnly = { ...zone, inertia: 1, classes: ['dog'] };
    const presence = newZonePresence();
    placeInZones(presence, [dogsOnly, { name: 'all', points: RIGHT, inertia: 1 }], 'person', [0.7, 0.5]);
    expect(presence.current).toEqual(['all']);
    placeInZones(presence, [dogsOnly], 'dog', [0.7, 0.5]);
    expect(presence.current).toEqual(['yard']);
  });
});

describe('zones and masks in tracking and events', () => {
  it('ignores a detection whose bottom centre is in an object mask, and tracks the same object outside it', () => {
    const { at, objects } = rig({ masks: [CORNER] });
    // A poster in the bottom-right quarter scores 0.9 every frame: never a track, never an event.
    for (let i = 0; i < 10; i++) expect(at(personAt(750, 900)).events).toEqual([]);
    expect(objects.tracks).toEqual([]);
    // Its head reaches into the masked area, its feet do not: it counts.
    at(personAt(750, 400));
    expect(objects.tracks).toHaveLength(1);
  });

  it('lists the zones of each object in its events', () => {
    const { at } = rig({ zones: [{ name: 'yard', points: RIGHT, inertia: 3 }, { name: 'corner', points: CORNER, inertia: 3 }] });
    at(personAt(700, 900));
    at(personAt(705, 900));
    const start = at(personAt(710, 900));
    expect(start.events.map((e) => e.event)).toEqual(['start']);
    expect(start.events[0]!.objects[0]!.zones).toEqual(['yard', 'corner']);
  });

  it('with required_zones, alerts only once an object has entered one of them', () => {
    const { at, tracker } = rig({ zones: [{ name: 'gate', points: RIGHT, inertia: 2 }], required_zones: ['gate'] });
    // Confirmed on the left half (3 frames at 0.9) but never in the gate: no event.
    for (let x = 100; x < 300; x += 20) expect(at(personAt(x, 800)).events).toEqual([]);
    expect(tracker.active).toBe(false);
    // Walks into the gate: the second frame inside completes the inertia, and the event starts.
    expect(at(personAt(560, 800)).events).toEqual([]);
    const start = at(personAt(580, 800));
    expect(start.events.map((e) => e.event)).toEqual(['start']);
    expect(start.events[0]!.objects[0]!.zones).toEqual(['gate']);
    // Back on the path, it still counts: it has been through the gate.
    const back = at(personAt(400, 800));
    expect(back.moving).toBe(true);
    expect(back.movers[0]!.zones).toEqual([]);
  });

  it('applies a live change of zones and masks at the next frame', () => {
    const { at, config, objects } = rig();
    at(personAt(750, 900));
    expect(objects.tracks).toHaveLength(1);
    config.masks = [CORNER];
    at(personAt(752, 900));
    // The masked detection no longer follows the track: it was seen once.
    expect(objects.tracks[0]!.frames_seen).toBe(1);
    config.masks = [];
    config.zones = [{ name: 'yard', points: RIGHT, inertia: 1 }];
    at(personAt(754, 900));
    expect(objects.tracks[0]!.presence.current).toEqual(['yard']);
  });
});
