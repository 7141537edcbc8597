import { describe, expect, it } from 'vitest';
import { classFilters, iou, median, ObjectTracker, passesFilter, SCORE_HISTORY, type ClassFilter, type FrameRef } from '../../agent/vision/object-tracker.js';
import type { FiltersConfig } from '../../agent/config/types.js';
import type { DetectedObject } from '../../models/types.js';

const FILTER: ClassFilter = { min_score: 0.5, threshold: 0.7, min_area: 0, max_area: 1, min_ratio: 0, max_ratio: 100 };
const NONE = { min_score: null, threshold: null, min_area: null, max_area: null, min_ratio: null, max_ratio: null };
const FILTERS: FiltersConfig = { default: FILTER, person: NONE, dog: NONE, cat: NONE, bear: { ...NONE, min_score: 0.6, threshold: 0.8 } };

/** A 100 x 200 box at (x, y) on a 1000 x 1000 frame. */
function det(cls: string, confidence: number, x = 100, y = 100, size = 100): DetectedObject {
  return { class: cls, confidence, bbox: { xmin: x, ymin: y, xmax: x + size, ymax: y + 2 * size } };
}

/** A tracker on a fake clock: frame n is at n * 500 ms (2 fps); the first frames are past the startup. */
function rig(options: { min_frames?: number; stationary_after_s?: number; startup?: boolean } = {}) {
  let n = 0;
  const tracker = new ObjectTracker(
    { min_frames: options.min_frames ?? 3, expire_after_s: 5, stationary_after_s: options.stationary_after_s ?? 10, stationary_tolerance: 0.1, filterFor: classFilters(FILTERS) },
    () => `t${++n}`,
  );
  let seq = 0;
  const frame = (): FrameRef => ({ seq: ++seq, ts: seq * 500, width: 1000, height: 1000 });
  const step = (...detections: DetectedObject[]) => tracker.update(detections, frame());
  // Past the first frame (what is on it was there at start), unless a test is about that.
  if (!options.startup) step();
  return { tracker, step, now: () => seq * 500 };
}

describe('ObjectTracker', () => {
  it('confirms a track once it was seen on min_frames frames with a median score at the threshold', () => {
    const { step } = rig();
    expect(step(det('person', 0.9))[0]).toMatchObject({ id: 't1', confirmed: false, frames_seen: 1 });
    expect(step(det('person', 0.88, 104))[0]).toMatchObject({ id: 't1', confirmed: false, frames_seen: 2 });
    expect(step(det('person', 0.91, 108))[0]).toMatchObject({ id: 't1', confirmed: true, frames_seen: 3, score: 0.91, top_score: 0.91 });
    // Once confirmed it stays so, through a few weak frames.
    expect(step(det('person', 0.52, 110))[0]).toMatchObject({ confirmed: true, score: 0.52, top_score: 0.91 });
  });

  it('never confirms a look-alike that scores 0.55-0.65 frame after frame, nor one bright frame among them', () => {
    const { step } = rig();
    const scores = [0.6, 0.62, 0.95, 0.58, 0.64, 0.55, 0.61, 0.6, 0.63, 0.57, 0.62, 0.6, 0.59, 0.65, 0.56];
    for (const score of scores) expect(step(det('dog', score))[0]!.confirmed).toBe(false);
    const [track] = step(det('dog', 0.6));
    expect(track!.scores).toHaveLength(SCORE_HISTORY);
    expect(track!.top_score).toBe(0.95);
  });

  it('keeps the frame of the best score with the track', () => {
    const { step } = rig();
    step(det('cat', 0.7));
    step(det('cat', 0.86, 110));
    const [track] = step(det('cat', 0.8, 120));
    expect(track!.top_score).toBe(0.86);
    expect(track!.top_frame).toEqual({ seq: 3, ts: 1_500, width: 1000, height: 1000 });
  });

  it('ignores detections under min_score or outside the area and ratio limits; a bear needs more evidence', () => {
    const frame = { width: 1000, height: 1000 };
    const filterFor = classFilters(FILTERS);
    expect(passesFilter(det('person', 0.49), filterFor('person'), frame)).toBe(false);
    expect(passesFilter(det('person', 0.5), filterFor('person'), frame)).toBe(true);
    expect(passesFilter(det('bear', 0.55), filterFor('bear'), frame)).toBe(false);
    expect(filterFor('bear')).toEqual({ ...FILTER, min_score: 0.6, threshold: 0.8 });
    expect(filterFor('car')).toEqual(FILTER);
    const small = { ...FILTER, min_area: 0.05 };
    expect(passesFilter(det('person', 0.9, 0, 0, 100), small, frame)).toBe(false); // 2 % of the frame
    expect(passesFilter(det('person', 0.9, 0, 0, 200), small, frame)).toBe(true); // 8 %
    const upright = { ...FILTER, max_ratio: 0.4 };
    expect(passesFilter(det('person', 0.9), upright, frame)).toBe(false); // width / height 0.5

    const { step } = rig();
    for (const score of [0.75, 0.78, 0.76, 0.77]) expect(step(det('bear', score))[0]!.confirmed).toBe(false);
    expect(step(det('bear', 0.5))[0]!.frames_seen).toBe(4);
  });

  it('matches by class: two objects keep their ids as they move, and a dog never continues a person', () => {
    const { step } = rig();
    step(det('person', 0.9, 100), det('person', 0.9, 600));
    const tracks = step(det('person', 0.9, 620), det('person', 0.9, 120), det('dog', 0.9, 110));
    expect(tracks.map((t) => [t.id, t.label, t.box.xmin])).toEqual([
      ['t1', 'person', 120],
      ['t2', 'person', 620],
      ['t3', 'dog', 110],
    ]);
  });

  it('follows a small fast box that no longer overlaps its last position (centre distance)', () => {
    const { step } = rig();
    step(det('cat', 0.9, 100, 100, 20));
    const [track] = step(det('cat', 0.9, 130, 100, 20));
    expect(iou(det('cat', 1, 100, 100, 20).bbox, det('cat', 1, 130, 100, 20).bbox)).toBe(0);
    expect(track).toMatchObject({ id: 't1', frames_seen: 2 });
    // Farther than the reach: another cat.
    expect(step(det('cat', 0.9, 400, 100, 20)).map((t) => t.id)).toEqual(['t1', 't2']);
  });

  it('drops a track not seen for expire_after_s; the object seen again is a new track', () => {
    const { tracker, step, now } = rig();
    step(det('person', 0.9));
    tracker.expire(now() + 4_999);
    expect(tracker.tracks).toHaveLength(1);
    tracker.expire(now() + 5_000);
    expect(tracker.tracks).toEqual([]);
  });

  it('says it is deciding while an unconfirmed track has not filled its score history', () => {
    const { tracker, step } = rig();
    expect(tracker.deciding).toBe(false);
    step(det('dog', 0.6));
    expect(tracker.deciding).toBe(true);
    for (let i = 1; i < SCORE_HISTORY; i++) step(det('dog', 0.6));
    expect(tracker.deciding).toBe(false);
  });

  it('a confirmed object that stays put for stationary_after_s is stationary, and active again once it moves', () => {
    const { step } = rig({ stationary_after_s: 10 });
    step(det('person', 0.9, 100));
    // Jitter within the tolerance (10 % of the box) is not movement.
    for (let i = 0; i < 19; i++) expect(step(det('person', 0.9, 100 + (i % 3) * 4))[0]!.stationary).toBe(false);
    expect(step(det('person', 0.9, 104))[0]).toMatchObject({ confirmed: true, stationary: true });
    expect(step(det('person', 0.9, 140))[0]).toMatchObject({ stationary: false, still_since: 11_500 });
  });

  it('an object there from the start and not moving is stationary from its first frame, until it moves', () => {
    const { step } = rig({ startup: true });
    for (let i = 0; i < 5; i++) expect(step(det('person', 0.9, 100))[0]).toMatchObject({ present_at_start: true, stationary: true });
    expect(step(det('person', 0.9, 100))[0]!.confirmed).toBe(true);
    expect(step(det('person', 0.9, 150))[0]).toMatchObject({ present_at_start: false, stationary: false });
  });

  it('median of an even and odd count', () => {
    expect(median([0.9, 0.1, 0.5])).toBe(0.5);
    expect(median([0.6, 0.8])).toBeCloseTo(0.7);
  });
});
