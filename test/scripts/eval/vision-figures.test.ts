import { describe, expect, it } from 'vitest';
import type { IntruderAlertPayload } from '../../../agent/mqtt/contract/topics.js';
import type { AgentRun } from '../../../scripts/eval/vision/agent-run.js';
import { minFramesWithin, sequenceFigures, verdicts } from '../../../scripts/eval/vision/figures.js';
import { candidateRegions, hardest, isLookAlike, type LookAlike } from '../../../scripts/eval/vision/look-alikes.js';

const alert = (id: string, event: 'start' | 'update' | 'end', receivedAt: number, afterStop = false) => ({
  receivedAt,
  afterStop,
  payload: { id, event, event_id: 'e1', objects: [{ stationary: true }] } as IntruderAlertPayload,
});

/** Frames every 500 ms from t = 10 000; 2 detector runs before frame 4 when it is the one counted from. */
const run = (alerts: AgentRun['alerts'], countFrom: number | null = 4): AgentRun => ({
  shownAt: Array.from({ length: 10 }, (_, i) => 10_000 + i * 500),
  alerts,
  stats: { frames: 10, inferences: 7, skipped: 3 },
  inferencesBefore: countFrom === null ? null : 2,
  readyMs: 1000,
});

describe('sequenceFigures', () => {
  it('measures latency from the first frame showing the intruder to the first start, counting a duplicate delivery once', () => {
    const f = sequenceFigures({ name: 's', kind: 'intruder', firstSubjectFrame: 4 }, run([alert('a', 'start', 13_150), alert('a', 'start', 13_160), alert('b', 'end', 16_000, true)]));
    expect(f).toMatchObject({ intrusions: 1, falseAlarms: 0, missed: false, ends: 0, inferences: 7, frames: 10, stationaryAtStop: true });
    expect(f.latencyS).toBeCloseTo(1.15, 3);
  });

  it('a start before the intruder showed is a false alarm, and with no start after it the intruder was missed', () => {
    const f = sequenceFigures({ name: 's', kind: 'intruder', firstSubjectFrame: 4 }, run([alert('a', 'start', 11_000)]));
    expect(f).toMatchObject({ intrusions: 1, falseAlarms: 1, missed: true, latencyS: null });
  });

  it('every start on a sequence without an intruder is a false alarm', () => {
    const f = sequenceFigures({ name: 's', kind: 'no intruder', firstSubjectFrame: null }, run([alert('a', 'start', 12_000), alert('b', 'update', 13_000)], null));
    expect(f).toMatchObject({ intrusions: 1, falseAlarms: 1, missed: false, updates: 1, framesInView: null, analysedInView: null });
  });

  it('counts the detector runs from the frame showing a look-alike, which is no intruder: no latency, nothing missed', () => {
    const f = sequenceFigures({ name: 's', kind: 'no intruder', firstSubjectFrame: 4 }, run([alert('a', 'start', 13_000)]));
    expect(f).toMatchObject({ framesInView: 6, analysedInView: 5, intrusions: 1, falseAlarms: 1, missed: false, latencyS: null });
  });
});

describe('verdicts', () => {
  const targets = { latencyS: 1.5, fps: 2, minFrames: 3 };
  const base = { frames: 16, inferences: 16, framesInView: null, analysedInView: null, falseAlarms: 0, missed: false, updates: 0, ends: 0, stationaryAtStop: null };

  it('fails each target that a sequence misses, and names it', () => {
    const results = verdicts(
      [
        { ...base, name: 'poster', kind: 'no intruder', intrusions: 1, falseAlarms: 1, latencyS: null, events: 1 },
        { ...base, name: 'walker', kind: 'intruder', intrusions: 2, latencyS: 1.9, events: 2 },
        { ...base, name: 'stander', kind: 'standing intruder', intrusions: 1, latencyS: 1.1, ends: 1, events: 1 },
      ],
      targets,
    );
    expect(results.map((r) => r.pass)).toEqual([false, false, false, false]);
    expect(results[0]!.detail).toContain('poster');
    expect(results[1]!.detail).toContain('walker (2 alerts');
    expect(results[2]!.detail).toContain('min_frames 2 would reach it');
    expect(results[3]!.detail).toContain('1 ends');
  });

  it('passes when every sequence behaves', () => {
    const results = verdicts(
      [
        { ...base, name: 'empty', kind: 'no intruder', intrusions: 0, latencyS: null, events: 0 },
        { ...base, name: 'stander', kind: 'standing intruder', intrusions: 1, latencyS: 1.1, events: 1 },
      ],
      targets,
    );
    expect(results.every((r) => r.pass)).toBe(true);
  });

  it('minFramesWithin keeps the measured rest of the path and fits the frame waits in the remainder', () => {
    // 1.9 s with min_frames 3 at 2 fps: 1.0 s of frame waits, 0.9 s the rest; 1.5 s leaves room for one wait.
    expect(minFramesWithin([1.2, 1.9], targets)).toBe(2);
    expect(minFramesWithin([1.1], targets)).toBe(3);
    expect(minFramesWithin([2.7], targets)).toBeNull();
  });
});

describe('look-alike search', () => {
  it('a look-alike is seen on every frame with its median under the threshold', () => {
    expect(isLookAlike([0.55, 0.72, 0.6, 0.66], [0.5, 0.7])).toBe(true);
    expect(isLookAlike([0.55, 0, 0.6, 0.66], [0.5, 0.7])).toBe(false);
    expect(isLookAlike([0.71, 0.72, 0.6, 0.75], [0.5, 0.7])).toBe(false);
  });

  it('picks the highest medians, one per photo', () => {
    const found = (source: string, scores: number[]) => ({ source, scores }) as LookAlike;
    const picked = hardest([found('a', [0.6, 0.6]), found('a', [0.69, 0.68]), found('b', [0.55, 0.55]), found('c', [0.65, 0.66])], 2);
    expect(picked.map((l) => [l.source, l.scores[0]])).toEqual([
      ['a', 0.69],
      ['c', 0.65],
    ]);
  });

  it('candidate regions lie inside the photo', () => {
    for (const r of candidateRegions(451, 300)) {
      expect(r.left).toBeGreaterThanOrEqual(0);
      expect(r.top).toBeGreaterThanOrEqual(0);
      expect(r.left + r.width).toBeLessThanOrEqual(451);
      expect(r.top + r.height).toBeLessThanOrEqual(300);
    }
  });
});
