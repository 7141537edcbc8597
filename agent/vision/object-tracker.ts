/**
 * Follows each detected object across frames, the way Frigate does, so that one frame and one score do
 * not decide: a detection counts only if it passes its class's filter (`min_score`, area, ratio); it is
 * matched to a track of its class; a track is confirmed once it was seen on `min_frames` frames and the
 * median of its last (up to 10) scores reaches its class's `threshold`, and stays confirmed; a confirmed
 * track whose box has not moved for `stationary_after_s` is stationary until it moves again. A detection
 * whose bottom centre falls in an object mask is ignored; each track knows the zones it is in
 * (agent/vision/zones.ts).
 *
 * Matching is greedy, per class: pairs by decreasing IoU (>= MIN_IOU), then, for boxes left over, by
 * increasing centre distance (a small box moving fast overlaps its last position little or not at all).
 * An optimal assignment (Hungarian) only differs from greedy when several same-class boxes overlap each
 * other ambiguously; with the few objects a camera sees at once, greedy is simpler and as good.
 *
 * Pure: time and frames come in as arguments, so it runs the same on a fake clock.
 */
import { randomUUID } from 'node:crypto';
import type { BoundingBox, DetectedObject } from '../../models/types.js';
import type { ClassFilterConfig, ClassFilterOverrides, FiltersConfig, FramePolygon, IntruderConfig, ZoneConfig } from '../config/types.js';
import { bottomCentre, insideAny } from './geometry.js';
import { newZonePresence, placeInZones, type ZonePresence } from './zones.js';

/** When a detection counts for a class. Areas are fractions of the frame, ratios width / height. */
export type ClassFilter = ClassFilterConfig;

/** The filter of each class: its own section's keys where set, else the default's. */
export function classFilters(filters: FiltersConfig): (label: string) => ClassFilter {
  return (label) => {
    const own = (filters as unknown as Record<string, ClassFilterOverrides | undefined>)[label];
    if (label === 'default' || !own) return filters.default;
    const merged = { ...filters.default };
    for (const key of Object.keys(merged) as (keyof ClassFilter)[]) merged[key] = own[key] ?? merged[key];
    return merged;
  };
}

export interface ObjectTrackerConfig {
  /** Frames a track must be seen on before it can be confirmed. */
  min_frames: number;
  /** A track not seen for this long is dropped. */
  expire_after_s: number;
  /** A confirmed track whose box stayed put this long is stationary. */
  stationary_after_s: number;
  /** How far (a fraction of the box's width / height) the centre may wander and still be "not moving". */
  stationary_tolerance: number;
  /** The filter of a class. */
  filterFor: (label: string) => ClassFilter;
  /** The zones and object masks, read at each frame so that a live change applies at once (none if absent). */
  zones?: () => readonly ZoneConfig[];
  masks?: () => readonly FramePolygon[];
}

/** Which frame a score or box belongs to. */
export interface FrameRef {
  seq: number;
  ts: number;
  width: number;
  height: number;
}

export interface Track {
  id: string;
  label: string;
  /** The box and score of the last frame it was seen on. */
  box: BoundingBox;
  score: number;
  /** The last SCORE_HISTORY scores, oldest first. */
  scores: number[];
  first_seen: number;
  last_seen: number;
  /** The frame it was last seen on. */
  last_frame: number;
  frames_seen: number;
  top_score: number;
  /** The frame of its top score. */
  top_frame: FrameRef;
  confirmed: boolean;
  stationary: boolean;
  /** Since when its centre stayed within the tolerance of `anchor`. */
  still_since: number;
  anchor: BoundingBox;
  /** Already there when tracking began, and has not moved since: it counts as stationary. */
  present_at_start: boolean;
  /** The zones it is in and has been in. */
  presence: ZonePresence;
}

/** Scores a track keeps for its median. */
export const SCORE_HISTORY = 10;
/** The least IoU that makes a detection the continuation of a track. */
export const MIN_IOU = 0.3;
/** The farthest a box centre may jump between frames, in sizes of the track's box (its larger side). */
export const MAX_JUMP = 1.5;

/** The object tracker's settings from the `intruder` configuration section. */
export function objectTrackerConfig(intruder: Pick<IntruderConfig, 'tracking' | 'stationary' | 'filters' | 'zones' | 'masks'>): ObjectTrackerConfig {
  return {
    zones: () => intruder.zones,
    masks: () => intruder.masks,
    min_frames: intruder.tracking.min_frames,
    expire_after_s: intruder.tracking.expire_after_s,
    stationary_after_s: intruder.stationary.after_s,
    stationary_tolerance: intruder.stationary.tolerance,
    filterFor: classFilters(intruder.filters),
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function iou(a: BoundingBox, b: BoundingBox): number {
  const w = Math.min(a.xmax, b.xmax) - Math.max(a.xmin, b.xmin);
  const h = Math.min(a.ymax, b.ymax) - Math.max(a.ymin, b.ymin);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (area(a) + area(b) - inter);
}

function area(b: BoundingBox): number {
  return Math.max(0, b.xmax - b.xmin) * Math.max(0, b.ymax - b.ymin);
}

function centre(b: BoundingBox): [number, number] {
  return [(b.xmin + b.xmax) / 2, (b.ymin + b.ymax) / 2];
}

/** Whether `detection` passes its class's filter on a frame of this size. */
export function passesFilter(detection: DetectedObject, filter: ClassFilter, frame: { width: number; height: number }): boolean {
  const { bbox } = detection;
  const width = bbox.xmax - bbox.xmin;
  const height = bbox.ymax - bbox.ymin;
  if (detection.confidence < filter.min_score || width <= 0 || height <= 0) return false;
  const fraction = area(bbox) / (frame.width * frame.height);
  const ratio = width / height;
  return fraction >= filter.min_area && fraction <= filter.max_area && ratio >= filter.min_ratio && ratio <= filter.max_ratio;
}

export class ObjectTracker {
  private readonly live = new Map<string, Track>();
  private framesTracked = 0;

  constructor(
    private readonly config: ObjectTrackerConfig,
    /** Track ids: unique across restarts, since subscribers may keep them. */
    private readonly newId: () => string = randomUUID,
  ) {}

  /** Live tracks, oldest first. */
  get tracks(): readonly Track[] {
    return [...this.live.values()];
  }

  /** Whether a track is still collecting the scores that decide it (the detector should keep looking). */
  get deciding(): boolean {
    return this.tracks.some((t) => !t.confirmed && t.scores.length < SCORE_HISTORY);
  }

  /** Feeds one analysed frame's detections; returns the live tracks after it. */
  update(detections: readonly DetectedObject[], frame: FrameRef): readonly Track[] {
    this.expire(frame.ts);
    const masks = this.config.masks?.() ?? [];
    const counted = detections.filter((d) => passesFilter(d, this.config.filterFor(d.class), frame) && !insideAny(bottomCentre(d.bbox, frame), masks));
    const unmatched = new Set(counted);
    for (const [track, detection] of this.match(counted)) {
      unmatched.delete(detection);
      this.follow(track, detection, frame);
    }
    for (const detection of unmatched) this.open(detection, frame);
    this.framesTracked++;
    return this.tracks;
  }

  /** Drops tracks not seen for `expire_after_s` (also call it when no frame is analysed). */
  expire(now: number): void {
    for (const [id, track] of this.live) {
      if (now - track.last_seen >= this.config.expire_after_s * 1000) this.live.delete(id);
    }
  }

  private match(detections: readonly DetectedObject[]): [Track, DetectedObject][] {
    const pairs: { track: Track; detection: DetectedObject; overlap: number; distance: number }[] = [];
    for (const track of this.live.values()) {
      const [tx, ty] = centre(track.box);
      const reach = MAX_JUMP * Math.max(track.box.xmax - track.box.xmin, track.box.ymax - track.box.ymin);
      for (const detection of detections) {
        if (detection.class !== track.label) continue;
        const [dx, dy] = centre(detection.bbox);
        const distance = Math.hypot(dx - tx, dy - ty);
        const overlap = iou(track.box, detection.bbox);
        if (overlap >= MIN_IOU || distance <= reach) pairs.push({ track, detection, overlap, distance });
      }
    }
    // By overlap first (the strong evidence), then by distance for those without enough overlap.
    pairs.sort((a, b) => {
      const aStrong = a.overlap >= MIN_IOU;
      const bStrong = b.overlap >= MIN_IOU;
      if (aStrong !== bStrong) return aStrong ? -1 : 1;
      return aStrong ? b.overlap - a.overlap : a.distance - b.distance;
    });
    const usedTracks = new Set<Track>();
    const usedDetections = new Set<DetectedObject>();
    const matched: [Track, DetectedObject][] = [];
    for (const { track, detection } of pairs) {
      if (usedTracks.has(track) || usedDetections.has(detection)) continue;
      usedTracks.add(track);
      usedDetections.add(detection);
      matched.push([track, detection]);
    }
    return matched;
  }

  private open(detection: DetectedObject, frame: FrameRef): void {
    const track: Track = {
      id: this.newId(),
      label: detection.class,
      box: { ...detection.bbox },
      score: detection.confidence,
      scores: [detection.confidence],
      first_seen: frame.ts,
      last_seen: frame.ts,
      last_frame: frame.seq,
      frames_seen: 1,
      top_score: detection.confidence,
      top_frame: { ...frame },
      confirmed: false,
      stationary: false,
      still_since: frame.ts,
      anchor: { ...detection.bbox },
      // On the first frame tracked: there when the agent started (a poster, a parked car).
      present_at_start: this.framesTracked === 0,
      presence: newZonePresence(),
    };
    this.live.set(track.id, track);
    this.place(track, frame);
    this.judge(track);
  }

  private follow(track: Track, detection: DetectedObject, frame: FrameRef): void {
    track.box = { ...detection.bbox };
    track.score = detection.confidence;
    track.scores = [...track.scores, detection.confidence].slice(-SCORE_HISTORY);
    track.last_seen = frame.ts;
    track.last_frame = frame.seq;
    track.frames_seen++;
    if (detection.confidence > track.top_score) {
      track.top_score = detection.confidence;
      track.top_frame = { ...frame };
    }
    if (this.moved(track)) {
      track.anchor = { ...track.box };
      track.still_since = frame.ts;
      track.present_at_start = false;
    }
    this.place(track, frame);
    this.judge(track);
  }

  private place(track: Track, frame: FrameRef): void {
    placeInZones(track.presence, this.config.zones?.() ?? [], track.label, bottomCentre(track.box, frame));
  }

  private judge(track: Track): void {
    const { min_frames, stationary_after_s } = this.config;
    if (!track.confirmed) {
      track.confirmed = track.frames_seen >= min_frames && median(track.scores) >= this.config.filterFor(track.label).threshold;
    }
    const stillFor = track.last_seen - track.still_since;
    track.stationary = track.present_at_start || (track.confirmed && stillFor >= stationary_after_s * 1000);
  }

  private moved(track: Track): boolean {
    const [ax, ay] = centre(track.anchor);
    const [bx, by] = centre(track.box);
    const tolerance = this.config.stationary_tolerance;
    return Math.abs(bx - ax) > tolerance * (track.anchor.xmax - track.anchor.xmin) || Math.abs(by - ay) > tolerance * (track.anchor.ymax - track.anchor.ymin);
  }
}
