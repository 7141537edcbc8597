/**
 * Turns tracked objects (agent/vision/object-tracker.ts) into intrusion events, the way Frigate reports
 * them: `start` when the first track is confirmed while moving, `update` when the set of confirmed
 * objects changes, `end` once `clear_after_s` passed without a confirmed object in view.
 *
 * With `required_zones`, only objects that have entered one of those zones count: the others are
 * tracked (and enter zones) but start, update and keep open no event.
 *
 * A stationary object (one that stopped, or one already there when tracking began: a poster, a parked
 * car) keeps an open event alive but never starts one, and does not extend the alarm.
 *
 * Against alert floods: box jitter is not a change (another set of track ids is), updates of one event
 * are sent at most once every MIN_UPDATE_INTERVAL_MS (a change held back is sent when the interval
 * expires, if it still holds), and an object confirmed less than `cooldown_s` after an event ended
 * continues that event (an `update` with the same event_id after its `end`) instead of starting a new
 * one: someone stepping in and out of the picture raises one alarm, not one per step.
 *
 * Each event carries its best frame (the frame of the highest score of a confirmed object since it
 * opened) with exactly that frame's boxes: the snapshot shows those, whenever the message goes out.
 *
 * Pure state machine: time comes in as arguments (ms), so it runs the same on a fake clock.
 */
import { randomUUID } from 'node:crypto';
import type { DetectedObject } from '../../models/types.js';
import type { TrackedObject } from '../store/types.js';
import type { FrameRef, ObjectTracker, Track } from './object-tracker.js';
import { inRequiredZone } from './zones.js';

export interface TrackerConfig {
  clear_after_s: number;
  cooldown_s: number;
  /** Read at each frame (a live change applies at once); absent or empty: anywhere. */
  required_zones?: readonly string[];
}

/** The frame an event's snapshot shows, and the objects as they were on it. */
export interface BestFrame {
  /** The frame's number and time (numbers start again with a new camera; the pair does not repeat). */
  seq: number;
  ts: number;
  score: number;
  objects: TrackedObject[];
}

export interface IntrusionEvent {
  event: 'start' | 'update' | 'end';
  event_id: string;
  /** The event's confirmed objects (for `end`: the last ones seen). */
  objects: TrackedObject[];
  /** When the event began (ms). */
  started_at: number;
  best: BestFrame;
}

export interface FrameOutcome {
  events: IntrusionEvent[];
  /** A confirmed, moving object was on this frame (what keeps the alarm going). */
  moving: boolean;
  /** Those objects (the alarm's zones decide which of them keep it going). */
  movers: TrackedObject[];
}

/** Track ids, sorted: what "the objects changed" compares, independent of boxes and scores. */
export function objectSignature(objects: readonly TrackedObject[]): string {
  return objects
    .map((o) => o.track_id)
    .sort()
    .join(',');
}

/** Object-count flicker (a person half hidden, then seen) must not become a message per frame. */
export const MIN_UPDATE_INTERVAL_MS = 5_000;

export function trackedObject(track: Track): TrackedObject {
  const detection: DetectedObject = { class: track.label, confidence: track.score, bbox: { ...track.box } };
  return { ...detection, track_id: track.id, top_score: track.top_score, stationary: track.stationary, zones: [...track.presence.current] };
}

interface OpenEvent {
  id: string;
  startedAt: number;
  lastSeenAt: number;
  objects: TrackedObject[];
  publishedSignature: string;
  lastPublishedAt: number;
  best: BestFrame;
}

export class IntrusionTracker {
  private open: OpenEvent | null = null;
  /** The last event that ended, while its cooldown runs. */
  private ended: { id: string; startedAt: number; endedAt: number } | null = null;

  constructor(
    private readonly config: TrackerConfig,
    private readonly objects: ObjectTracker,
    private readonly newId: () => string = randomUUID,
  ) {}

  get active(): boolean {
    return this.open !== null;
  }

  get eventId(): string | null {
    return this.open?.id ?? null;
  }

  /** The open event's best frame so far (null: no event). */
  get bestFrame(): BestFrame | null {
    return this.open?.best ?? null;
  }

  /** Every confirmed object is stationary (true when there is none): re-checks may be sparse. */
  get allStationary(): boolean {
    return this.objects.tracks.filter((t) => t.confirmed).every((t) => t.stationary);
  }

  /** A track is still collecting the scores that decide it. */
  get deciding(): boolean {
    return this.objects.deciding;
  }

  /** Feeds one analysed frame's detections; returns the events it produces. */
  observe(detections: readonly DetectedObject[], frame: FrameRef): FrameOutcome {
    const events = this.tick(frame.ts);
    this.objects.update(detections, frame);
    const confirmed = this.counted();
    const seen = confirmed.filter((t) => t.last_frame === frame.seq);
    const onFrame = bestFirst(seen.map(trackedObject));
    const movers = onFrame.filter((o) => !o.stationary);
    const moving = movers.length > 0;
    const frameBest: BestFrame = { seq: frame.seq, ts: frame.ts, score: onFrame[0]?.confidence ?? 0, objects: onFrame };
    const open = this.open;
    if (!open) {
      if (moving) events.push(this.begin(bestFirst(confirmed.map(trackedObject)), frameBest, frame.ts));
      return { events, moving, movers };
    }
    if (seen.length > 0) open.lastSeenAt = frame.ts;
    if (confirmed.length > 0) open.objects = bestFirst(confirmed.map(trackedObject));
    if (frameBest.score > open.best.score) open.best = frameBest;
    const update = this.pendingUpdate(open, frame.ts);
    if (update) events.push(update);
    return { events, moving, movers };
  }

  /** The confirmed tracks that count for events: all of them, or those that entered a required zone. */
  private counted(): Track[] {
    const required = this.config.required_zones ?? [];
    return this.objects.tracks.filter((t) => t.confirmed && inRequiredZone(t.presence.entered, required));
  }

  /**
   * Advances time without a frame: drops tracks gone for good, ends an event whose objects are gone for
   * `clear_after_s`, and sends an update held back by the update interval. Call it periodically, since
   * frames may stop coming.
   */
  tick(now: number): IntrusionEvent[] {
    this.objects.expire(now);
    const open = this.open;
    if (!open) return [];
    if (now - open.lastSeenAt >= this.config.clear_after_s * 1000) {
      this.open = null;
      this.ended = { id: open.id, startedAt: open.startedAt, endedAt: now };
      return [this.message('end', open)];
    }
    const confirmed = this.counted();
    if (confirmed.length > 0) open.objects = bestFirst(confirmed.map(trackedObject));
    const update = this.pendingUpdate(open, now);
    return update ? [update] : [];
  }

  /** Ends the open event now (shutdown), so subscribers do not wait for an end that never comes. */
  finish(): IntrusionEvent[] {
    const open = this.open;
    if (!open) return [];
    this.open = null;
    return [this.message('end', open)];
  }

  private begin(objects: TrackedObject[], best: BestFrame, now: number): IntrusionEvent {
    const ended = this.ended;
    const resumed = ended !== null && now - ended.endedAt < this.config.cooldown_s * 1000;
    const id = resumed ? ended.id : this.newId();
    const startedAt = resumed ? ended.startedAt : now;
    this.ended = null;
    const open: OpenEvent = { id, startedAt, lastSeenAt: now, objects, publishedSignature: objectSignature(objects), lastPublishedAt: now, best };
    this.open = open;
    return this.message(resumed ? 'update' : 'start', open);
  }

  private pendingUpdate(open: OpenEvent, now: number): IntrusionEvent | null {
    const signature = objectSignature(open.objects);
    if (signature === open.publishedSignature) return null;
    if (now - open.lastPublishedAt < MIN_UPDATE_INTERVAL_MS) return null;
    open.publishedSignature = signature;
    open.lastPublishedAt = now;
    return this.message('update', open);
  }

  private message(event: IntrusionEvent['event'], open: OpenEvent): IntrusionEvent {
    return { event, event_id: open.id, objects: open.objects, started_at: open.startedAt, best: open.best };
  }
}

/** Highest score first, as the detector lists them. */
function bestFirst(objects: TrackedObject[]): TrackedObject[] {
  return objects.sort((a, b) => b.confidence - a.confidence);
}
