import { describe, expect, it } from 'vitest';
import { IntrusionTracker, MIN_UPDATE_INTERVAL_MS, objectSignature } from '../../agent/vision/intrusion-tracker.js';
import type { DetectedObject } from '../../models/types.js';

function obj(cls: string, xmin = 10, confidence = 0.9): DetectedObject {
  return { class: cls, confidence, bbox: { xmin, ymin: 10, xmax: xmin + 50, ymax: 100 } };
}

function tracker(clear_after_s = 10, cooldown_s = 5) {
  let n = 0;
  return new IntrusionTracker({ clear_after_s, cooldown_s }, () => `ev-${++n}`);
}

describe('IntrusionTracker', () => {
  it('starts an event at the first frame with an intruder and ends it clear_after_s after the last one', () => {
    const t = tracker();
    expect(t.observe([], 0)).toEqual([]);
    const start = t.observe([obj('person')], 1_000);
    expect(start).toEqual([{ event: 'start', event_id: 'ev-1', objects: [obj('person')], started_at: 1_000 }]);
    expect(t.active).toBe(true);
    expect(t.observe([obj('person', 12)], 5_000)).toEqual([]);
    expect(t.observe([], 14_999)).toEqual([]);
    const end = t.tick(15_000);
    expect(end).toHaveLength(1);
    expect(end[0]).toMatchObject({ event: 'end', event_id: 'ev-1', started_at: 1_000 });
    expect(end[0]!.objects[0]!.bbox.xmin).toBe(12);
    expect(t.active).toBe(false);
  });

  it('does not send updates for box jitter, only when the classes or counts change', () => {
    const t = tracker(60, 0);
    const gap = MIN_UPDATE_INTERVAL_MS;
    t.observe([obj('person')], 0);
    expect(t.observe([obj('person', 30, 0.7)], gap)).toEqual([]);
    const update = t.observe([obj('person'), obj('dog')], gap + 1);
    expect(update).toMatchObject([{ event: 'update', event_id: 'ev-1' }]);
    expect(update[0]!.objects.map((o) => o.class)).toEqual(['person', 'dog']);
    expect(t.observe([obj('dog'), obj('person', 40)], 3 * gap)).toEqual([]);
    expect(t.observe([obj('person'), obj('person')], 3 * gap + 1)).toMatchObject([{ event: 'update' }]);
  });

  it('sends at most one update per interval: a change held back goes out when the interval expires', () => {
    const t = tracker(60, 0);
    t.observe([obj('person')], 0);
    expect(t.observe([obj('person'), obj('dog')], 1_000)).toEqual([]);
    expect(t.tick(MIN_UPDATE_INTERVAL_MS - 1)).toEqual([]);
    expect(t.tick(MIN_UPDATE_INTERVAL_MS)).toMatchObject([{ event: 'update', event_id: 'ev-1' }]);
    // Changed and changed back within the interval: nothing to report.
    t.observe([obj('person'), obj('dog'), obj('cat')], MIN_UPDATE_INTERVAL_MS + 1_000);
    t.observe([obj('person'), obj('dog')], MIN_UPDATE_INTERVAL_MS + 2_000);
    expect(t.tick(3 * MIN_UPDATE_INTERVAL_MS)).toEqual([]);
  });

  it('continues an event that ended less than cooldown_s ago instead of starting a new one', () => {
    const t = tracker(2, 30);
    t.observe([obj('person')], 0);
    expect(t.tick(2_000)).toMatchObject([{ event: 'end', event_id: 'ev-1' }]);
    expect(t.observe([obj('person')], 20_000)).toEqual([{ event: 'update', event_id: 'ev-1', objects: [obj('person')], started_at: 0 }]);
    expect(t.tick(22_000)).toMatchObject([{ event: 'end', event_id: 'ev-1' }]);
    // Past the cooldown: a new event.
    expect(t.observe([obj('person')], 52_000)).toMatchObject([{ event: 'start', event_id: 'ev-2', started_at: 52_000 }]);
  });

  it('opens a new event with a new id after the previous one ended', () => {
    const t = tracker(2, 0);
    t.observe([obj('cat')], 0);
    const events = t.observe([obj('bear')], 3_000);
    expect(events.map((e) => [e.event, e.event_id])).toEqual([
      ['end', 'ev-1'],
      ['start', 'ev-2'],
    ]);
  });

  it('finish() ends the open event at shutdown, and only once', () => {
    const t = tracker();
    expect(t.finish()).toEqual([]);
    t.observe([obj('person')], 0);
    expect(t.finish()).toMatchObject([{ event: 'end', event_id: 'ev-1' }]);
    expect(t.finish()).toEqual([]);
    expect(t.tick(100_000)).toEqual([]);
  });

  it('compares objects by class counts', () => {
    expect(objectSignature([obj('dog'), obj('person'), obj('dog')])).toBe('dog:2,person:1');
    expect(objectSignature([])).toBe('');
  });
});
