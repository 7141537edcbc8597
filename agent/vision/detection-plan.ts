/**
 * Decides, frame by frame, what the detector looks at: nothing, the full frame, or the motion regions.
 *
 * - No event and no track being confirmed: only frames the motion gate lets through; a motion frame
 *   runs on its regions (when on), the gate's forced check and the periodic full frame run whole.
 * - A track being confirmed: every frame (confirmation needs several), whole unless the gate saw motion.
 * - An event open: the full frame, so a stationary intruder keeps being seen; but when every confirmed
 *   object is stationary and nothing is being confirmed, only every `recheck_every_frames` frames,
 *   unless the gate sees motion (then at once).
 */
import type { GateDecision } from './motion-gate.js';
import { motionRegions, type ChangedCells, type Region } from './motion-regions.js';

export interface DetectionPlanConfig {
  regions: { enabled: boolean; full_frame_every_s: number; min_size: number };
  stationary: { recheck_every_frames: number };
}

/** What the trackers say about the scene. */
export interface SceneState {
  eventOpen: boolean;
  /** A track is still collecting the scores that decide it. */
  deciding: boolean;
  /** Every confirmed object is stationary (true when there is none). */
  allStationary: boolean;
}

export type DetectionPlan = { kind: 'skip'; reason: 'no_motion' | 'stationary' } | { kind: 'full' } | { kind: 'regions'; regions: Region[] };

export interface FrameFacts {
  decision: GateDecision;
  /** The gate's changed cells of this frame (null when it did not compare). */
  changed: () => ChangedCells | null;
  frame: { width: number; height: number };
  /** The model's input side, in pixels (the smallest region is `regions.min_size` of it). */
  inputSide: number;
}

export class DetectionPlanner {
  /** Monotonic ms of the last full-frame run. */
  private lastFullAt: number | null = null;
  /** Frames since the last run while only stationary objects are watched. */
  private framesSinceRun = 0;

  constructor(
    private readonly config: DetectionPlanConfig,
    private readonly now: () => number = () => performance.now(),
  ) {}

  plan(facts: FrameFacts, scene: SceneState): DetectionPlan {
    const motion = facts.decision.reason === 'motion';
    if (scene.eventOpen && !scene.deciding && scene.allStationary && !motion) {
      this.framesSinceRun++;
      if (this.framesSinceRun < this.config.stationary.recheck_every_frames) return { kind: 'skip', reason: 'stationary' };
      return this.full();
    }
    if (scene.eventOpen) return this.full();
    if (!scene.deciding && !facts.decision.detect) {
      return { kind: 'skip', reason: 'no_motion' };
    }
    if (!motion || !this.config.regions.enabled || this.fullFrameDue()) return this.full();
    const changed = facts.changed();
    const regions = changed ? motionRegions(changed, facts.frame.width, facts.frame.height, { minSide: Math.round(facts.inputSide * this.config.regions.min_size) }) : null;
    if (!regions) return this.full();
    this.framesSinceRun = 0;
    return { kind: 'regions', regions };
  }

  private fullFrameDue(): boolean {
    return this.lastFullAt === null || this.now() - this.lastFullAt >= this.config.regions.full_frame_every_s * 1000;
  }

  private full(): DetectionPlan {
    this.lastFullAt = this.now();
    this.framesSinceRun = 0;
    return { kind: 'full' };
  }
}
