import { describe, expect, it } from 'vitest';
import { IntrusionTracker, MIN_UPDATE_INTERVAL_MS, objectSignature, type FrameOutcome } from '../../agent/vision/intrusion-tracker.js';
import { ObjectTracker } from '../../agent/vision/object-tracker.js';
import type { DetectedObject } from '../../models/types.js';

const FILTER = { min_score: 0.5, threshold: 0.7, min_area: 0, max_area: 1, min_ratio: 0, max_ratio: 100 };

function obj(cls: string, xmin = 10, confidence = 0.9): DetectedObject {
  return { class: cls, confidence, bbox: { xmin, ymin: 10, xmax: xmin + 50, ymax: 100 } };
}

/** Events from tracks on a fake clock; `at(ms, ...objects)` is one analysed frame. */
function rig(options: { clear_after_s?: number; cooldown_s?: number; min_frames?: number; stationary_after_s?: number; startup?: boolean } = {}) {
  let events = 0;
  let tracks = 0;
  const objects = new ObjectTracker(
    { min_frames: options.min_frames ?? 1, expire_after_s: 10, stationary_after_s: options.stationary_after_s ?? 60, stationary_tolerance: 0.1, filterFor: () => FILTER },
    () => `t${++tracks}`,
  );
  const tracker = new IntrusionTracker({ clear_after_s: options.clear_after_s ?? 10, cooldown_s: options.cooldown_s ?? 5 }, objects, () => `ev-${++events}`);
  let seq = 0;
  const at = (ts: number, ...detections: DetectedObject[]): FrameOutcome => tracker.observe(detections, { seq: ++seq, ts, width: 640, height: 480 });
  // An empty first frame: objects seen later were not there at start.
  if (!options.startup) at(-1_000);
  return { tracker, at };
}

const kinds = (outcome: FrameOutcome | { events: { event: string }[] }) => outcome.events.map((e) => e.event);

describe('IntrusionTracker', () => {
  it('starts an event when the first track is confirmed and ends it clear_after_s after the last sighting', () => {
    const { tracker, at } = rig({ min_frames: 3 });
    expect(at(0, obj('person')).events).toEqual([]);
    expect(at(500, obj('person', 12)).events).toEqual([]);
    const start = at(1_000, obj('person', 14, 0.95));
    expect(start.moving).toBe(true);
    expect(start.events).toEqual([
      {
        event: 'start',
        event_id: 'ev-1',
        objects: [{ class: 'person', confidence: 0.95, bbox: obj('person', 14).bbox, track_id: 't1', top_score: 0.95, stationary: false, zones: [] }],
        started_at: 1_000,
        best: { seq: 4, ts: 1_000, score: 0.95, objects: start.events[0]!.objects },
      },
    ]);
    expect(tracker.active).toBe(true);
    expect(kinds(at(5_000, obj('person', 16)))).toEqual([]);
    expect(kinds(at(14_999))).toEqual([]);
    const end = tracker.tick(15_000);
    expect(end).toMatchObject([{ event: 'end', event_id: 'ev-1', started_at: 1_000 }]);
    expect(end[0]!.objects[0]!.bbox.xmin).toBe(16);
    expect(tracker.active).toBe(false);
  });

  it('raises nothing for a look-alike scoring 0.55-0.65 frame after frame', () => {
    const { tracker, at } = rig({ min_frames: 3 });
    for (let i = 0; i < 30; i++) expect(at(i * 500, obj('dog', 10, 0.55 + (i % 5) * 0.025)).events).toEqual([]);
    expect(tracker.active).toBe(false);
  });

  it('sends an update when the set of confirmed objects changes, not for box jitter or a new score', () => {
    const { at } = rig({ clear_after_s: 60, cooldown_s: 0 });
    const gap = MIN_UPDATE_INTERVAL_MS;
    at(0, obj('person'));
    expect(kinds(at(gap, obj('person', 14, 0.75)))).toEqual([]);
    const update = at(gap + 1, obj('person'), obj('dog', 300));
    expect(update.events).toMatchObject([{ event: 'update', event_id: 'ev-1' }]);
    expect(update.events[0]!.objects.map((o) => [o.track_id, o.class])).toEqual([
      ['t1', 'person'],
      ['t2', 'dog'],
    ]);
    expect(kinds(at(3 * gap, obj('dog', 302), obj('person', 12)))).toEqual([]);
    // Another person: another track, another set.
    expect(kinds(at(3 * gap + 1, obj('person'), obj('dog', 300), obj('person', 500)))).toEqual(['update']);
  });

  it('sends at most one update per interval: a change held back goes out when the interval expires, with the best frame', () => {
    const { tracker, at } = rig({ clear_after_s: 60, cooldown_s: 0 });
    const start = at(0, obj('person', 10, 0.95)).events[0]!;
    expect(kinds(at(1_000, obj('person'), obj('dog', 300, 0.8)))).toEqual([]);
    expect(tracker.tick(MIN_UPDATE_INTERVAL_MS - 1)).toEqual([]);
    const [held] = tracker.tick(MIN_UPDATE_INTERVAL_MS);
    expect(held).toMatchObject({ event: 'update', event_id: 'ev-1' });
    expect(held!.objects.map((o) => o.class)).toEqual(['person', 'dog']);
    // The snapshot of the update is the best frame (the start's, person at 0.95) with that frame's boxes only.
    expect(held!.best).toEqual(start.best);
    expect(held!.best.objects.map((o) => [o.class, o.confidence])).toEqual([['person', 0.95]]);
  });

  it('moves the best frame to a higher score, with the boxes of that frame', () => {
    const { tracker, at } = rig({ clear_after_s: 60 });
    at(0, obj('person', 10, 0.8));
    at(500, obj('person', 12, 0.85), obj('cat', 300, 0.93));
    at(1_000, obj('person', 14, 0.9), obj('cat', 302, 0.91));
    const events = tracker.tick(MIN_UPDATE_INTERVAL_MS);
    expect(events[0]!.best).toMatchObject({ seq: 3, ts: 500, score: 0.93 });
    expect(events[0]!.best.objects.map((o) => [o.class, o.confidence, o.bbox.xmin])).toEqual([
      ['cat', 0.93, 300],
      ['person', 0.85, 12],
    ]);
  });

  it('continues an event that ended less than cooldown_s ago instead of starting a new one', () => {
    const { tracker, at } = rig({ clear_after_s: 2, cooldown_s: 30 });
    at(0, obj('person'));
    expect(tracker.tick(2_000)).toMatchObject([{ event: 'end', event_id: 'ev-1' }]);
    expect(at(20_000, obj('person')).events).toMatchObject([{ event: 'update', event_id: 'ev-1', started_at: 0 }]);
    expect(tracker.tick(22_000)).toMatchObject([{ event: 'end', event_id: 'ev-1' }]);
    expect(at(52_000, obj('person')).events).toMatchObject([{ event: 'start', event_id: 'ev-2', started_at: 52_000 }]);
  });

  it('a stationary object keeps the event open, but neither extends the alarm nor sends an update', () => {
    const { tracker, at } = rig({ clear_after_s: 2, stationary_after_s: 3 });
    let ts = 0;
    for (; ts < 3_000; ts += 500) expect(at(ts, obj('person')).moving).toBe(true);
    for (; ts < 60_000; ts += 500) {
      const outcome = at(ts, obj('person'));
      expect(outcome).toEqual({ events: [], moving: false, movers: [] });
    }
    expect(tracker.active).toBe(true);
    // It walks away: active again.
    expect(at(ts, obj('person', 200)).moving).toBe(true);
  });

  it('an object there when tracking began and not moving starts nothing; once it moves it does', () => {
    const { tracker, at } = rig({ startup: true });
    for (let ts = 0; ts < 30_000; ts += 500) expect(at(ts, obj('person')).events).toEqual([]);
    expect(tracker.active).toBe(false);
    expect(kinds(at(30_000, obj('person', 100)))).toEqual(['start']);
  });

  it('opens a new event with a new id after the previous one ended', () => {
    const { at } = rig({ clear_after_s: 2, cooldown_s: 0 });
    at(0, obj('cat'));
    expect(at(3_000, obj('bear')).events.map((e) => [e.event, e.event_id])).toEqual([
      ['end', 'ev-1'],
      ['start', 'ev-2'],
    ]);
  });

  it('finish() ends the open event at shutdown, and only once', () => {
    const { tracker, at } = rig();
    expect(tracker.finish()).toEqual([]);
    at(0, obj('person'));
    expect(tracker.finish()).toMatchObject([{ event: 'end', event_id: 'ev-1' }]);
    expect(tracker.finish()).toEqual([]);
    expect(tracker.tick(100_000)).toEqual([]);
  });

  it('compares objects by track id', () => {
    const tracked = (id: string) => ({ ...obj('dog'), track_id: id, top_score: 0.9, stationary: false, zones: [] });
    expect(objectSignature([tracked('b'), tracked('a')])).toBe('a,b');
    expect(objectSignature([])).toBe('');
  });
});
