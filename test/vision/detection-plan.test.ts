import { describe, expect, it } from 'vitest';
import { DetectionPlanner, type DetectionPlanConfig, type FrameFacts, type SceneState } from '../../agent/vision/detection-plan.js';
import type { GateDecision } from '../../agent/vision/motion-gate.js';
import type { ChangedCells } from '../../agent/vision/motion-regions.js';

const config: DetectionPlanConfig = { regions: { enabled: true, full_frame_every_s: 5, min_size: 1 }, stationary: { recheck_every_frames: 4 } };

/** A small change in the middle of a 64x48 map. */
function smallChange(): ChangedCells {
  const cells = new Uint8Array(64 * 48);
  cells[24 * 64 + 32] = 1;
  return { cells, width: 64, height: 48 };
}

const gate = {
  motion: { detect: true, reason: 'motion', changed: 0.01 },
  still: { detect: false, reason: 'no_motion', changed: 0 },
  forced: { detect: true, reason: 'forced', changed: 0 },
} satisfies Record<string, GateDecision>;

const facts = (decision: GateDecision): FrameFacts => ({ decision, changed: smallChange, frame: { width: 1920, height: 1080 }, inputSide: 640 });

const quiet: SceneState = { eventOpen: false, deciding: false, allStationary: true };
const confirming: SceneState = { eventOpen: false, deciding: true, allStationary: true };
const stationaryEvent: SceneState = { eventOpen: true, deciding: false, allStationary: true };
const movingEvent: SceneState = { eventOpen: true, deciding: false, allStationary: false };

function planner(settings = config) {
  const clock = { now: 0 };
  return { clock, planner: new DetectionPlanner(settings, () => clock.now) };
}

describe('DetectionPlanner', () => {
  it('a quiet scene: nothing without motion, regions on motion, the full frame on forced checks', () => {
    const { clock, planner: plan } = planner();
    expect(plan.plan(facts(gate.still), quiet)).toEqual({ kind: 'skip', reason: 'no_motion' });
    // The first motion frame runs whole (no full frame yet), the next ones on regions.
    expect(plan.plan(facts(gate.motion), quiet).kind).toBe('full');
    clock.now = 100;
    expect(plan.plan(facts(gate.motion), quiet)).toEqual({ kind: 'regions', regions: [{ x: 654, y: 230, width: 640, height: 640 }] });
    expect(plan.plan(facts(gate.forced), quiet).kind).toBe('full');
  });

  it('runs the full frame every full_frame_every_s while motion goes to regions', () => {
    const { clock, planner: plan } = planner();
    const kinds: string[] = [];
    for (let t = 0; t <= 12_000; t += 1000) {
      clock.now = t;
      kinds.push(plan.plan(facts(gate.motion), quiet).kind);
    }
    expect(kinds).toEqual(['full', 'regions', 'regions', 'regions', 'regions', 'full', 'regions', 'regions', 'regions', 'regions', 'full', 'regions', 'regions']);
  });

  it('runs the full frame on every frame while an event with a moving object is open, motion or not', () => {
    const { planner: plan } = planner();
    for (const decision of [gate.still, gate.motion, gate.still]) expect(plan.plan(facts(decision), movingEvent).kind).toBe('full');
  });

  it('while a track is being confirmed: every frame, whole without motion, regions with it', () => {
    const { clock, planner: plan } = planner();
    expect(plan.plan(facts(gate.still), confirming).kind).toBe('full');
    clock.now = 100;
    expect(plan.plan(facts(gate.motion), confirming).kind).toBe('regions');
  });

  it('re-checks a scene of stationary objects every recheck_every_frames frames; motion goes to the detector at once', () => {
    const { planner: plan } = planner();
    const kinds = Array.from({ length: 9 }, () => plan.plan(facts(gate.still), stationaryEvent).kind);
    expect(kinds).toEqual(['skip', 'skip', 'skip', 'full', 'skip', 'skip', 'skip', 'full', 'skip']);
    expect(plan.plan(facts(gate.motion), stationaryEvent).kind).toBe('full');
    // The count starts again after a run.
    expect(plan.plan(facts(gate.still), stationaryEvent).kind).toBe('skip');
    // A track being confirmed: every frame again.
    expect(plan.plan(facts(gate.still), { ...stationaryEvent, deciding: true }).kind).toBe('full');
  });

  it('recheck_every_frames 1 and regions off: every frame whole, as before the plan existed', () => {
    const { planner: plan } = planner({ regions: { enabled: false, full_frame_every_s: 5, min_size: 1 }, stationary: { recheck_every_frames: 1 } });
    for (let i = 0; i < 3; i++) expect(plan.plan(facts(gate.still), stationaryEvent).kind).toBe('full');
    expect(plan.plan(facts(gate.motion), quiet).kind).toBe('full');
    expect(plan.plan(facts(gate.motion), quiet).kind).toBe('full');
  });
});
