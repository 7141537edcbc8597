/**
 * Turns per-frame detections into intrusion events, the way Frigate reports them: `start` at the first
 * frame with an intruder, `update` when the set of intruders changes, `end` once `clear_after_s` passed
 * without one.
 *
 * Against alert floods: box jitter between frames is not a change (a different set of classes or a
 * different count per class is), updates of one event are sent at most once every
 * MIN_UPDATE_INTERVAL_MS (a change held back is sent when the interval expires, if it still holds), and
 * an intruder seen less than `cooldown_s` after an event ended continues that event (an `update` with
 * the same event_id after its `end`) instead of starting a new one: someone stepping in and out of the
 * picture raises one alarm, not one per step.
 *
 * Pure state machine: time comes in as arguments (ms), so it runs the same on a fake clock.
 */
import { randomUUID } from 'node:crypto';
import type { DetectedObject } from '../../models/types.js';

export interface TrackerConfig {
  clear_after_s: number;
  cooldown_s: number;
}

export interface IntrusionEvent {
  event: 'start' | 'update' | 'end';
  event_id: string;
  /** The event's current intruders (for `end`: the last ones seen). */
  objects: DetectedObject[];
  /** When the event began (ms). */
  started_at: number;
}

/** `person:2,dog:1`: what "the objects changed" compares, independent of boxes and confidences. */
export function objectSignature(objects: readonly DetectedObject[]): string {
  const counts = new Map<string, number>();
  for (const o of objects) counts.set(o.class, (counts.get(o.class) ?? 0) + 1);
  return [...counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([cls, n]) => `${cls}:${n}`)
    .join(',');
}

/** Object-count flicker (a person half hidden, then seen) must not become a message per frame. */
export const MIN_UPDATE_INTERVAL_MS = 5_000;

interface OpenEvent {
  id: string;
  startedAt: number;
  lastSeenAt: number;
  objects: DetectedObject[];
  publishedSignature: string;
  lastPublishedAt: number;
}

export class IntrusionTracker {
  private open: OpenEvent | null = null;
  /** The last event that ended, while its cooldown runs. */
  private ended: { id: string; startedAt: number; endedAt: number } | null = null;

  constructor(
    private readonly config: TrackerConfig,
    private readonly newId: () => string = randomUUID,
  ) {}

  get active(): boolean {
    return this.open !== null;
  }

  get eventId(): string | null {
    return this.open?.id ?? null;
  }

  /** Feeds one frame's intruders (empty: none seen); returns the events it produces. */
  observe(objects: DetectedObject[], now: number): IntrusionEvent[] {
    const events = this.tick(now);
    const open = this.open;
    if (objects.length === 0) return events;
    if (!open) {
      const ended = this.ended;
      const resumed = ended !== null && now - ended.endedAt < this.config.cooldown_s * 1000;
      const id = resumed ? ended.id : this.newId();
      const startedAt = resumed ? ended.startedAt : now;
      this.ended = null;
      this.open = { id, startedAt, lastSeenAt: now, objects, publishedSignature: objectSignature(objects), lastPublishedAt: now };
      events.push({ event: resumed ? 'update' : 'start', event_id: id, objects, started_at: startedAt });
      return events;
    }
    open.lastSeenAt = now;
    open.objects = objects;
    const update = this.pendingUpdate(open, now);
    if (update) events.push(update);
    return events;
  }

  /**
   * Advances time without a frame: ends an event whose intruders are gone for `clear_after_s`, and sends
   * an update held back by the update interval. Call it periodically, since frames may stop coming.
   */
  tick(now: number): IntrusionEvent[] {
    const open = this.open;
    if (!open) return [];
    if (now - open.lastSeenAt >= this.config.clear_after_s * 1000) {
      this.open = null;
      this.ended = { id: open.id, startedAt: open.startedAt, endedAt: now };
      return [{ event: 'end', event_id: open.id, objects: open.objects, started_at: open.startedAt }];
    }
    const update = this.pendingUpdate(open, now);
    return update ? [update] : [];
  }

  /** Ends the open event now (shutdown), so subscribers do not wait for an end that never comes. */
  finish(): IntrusionEvent[] {
    const open = this.open;
    if (!open) return [];
    this.open = null;
    return [{ event: 'end', event_id: open.id, objects: open.objects, started_at: open.startedAt }];
  }

  private pendingUpdate(open: OpenEvent, now: number): IntrusionEvent | null {
    const signature = objectSignature(open.objects);
    if (signature === open.publishedSignature) return null;
    if (now - open.lastPublishedAt < MIN_UPDATE_INTERVAL_MS) return null;
    open.publishedSignature = signature;
    open.lastPublishedAt = now;
    return { event: 'update', event_id: open.id, objects: open.objects, started_at: open.startedAt };
  }
}
