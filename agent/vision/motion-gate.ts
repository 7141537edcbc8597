/**
 * Decides which camera frames are worth a detector run. Inference costs ~100 ms of both cores on a Pi,
 * shrinking a frame to a 64x48 greyscale thumbnail costs ~2 ms (a raw frame's Y plane needs no decode), so frames are compared cheaply first and
 * only a changed scene (or a forced periodic check) goes to the model.
 */
import { frameLuma, type FrameImage } from '../../drivers/camera/index.js';
import type { MotionConfig } from '../config/types.js';
import type { ChangedCells } from './motion-regions.js';
import { lumaThumbnail } from './luma-thumbnail.js';

/** Thumbnail size: small enough to be cheap and to ignore sensor noise, large enough to see a person. */
const THUMB_WIDTH = 64;
const THUMB_HEIGHT = 48;
/** A pixel counts as changed when its grey level moves by more than this (0..255): above JPEG/sensor noise. */
const PIXEL_DELTA = 25;

export type GateReason = 'disabled' | 'first' | 'motion' | 'forced' | 'no_motion';

export interface GateDecision {
  detect: boolean;
  reason: GateReason;
  /** Fraction of thumbnail pixels that changed since the previous frame (0..1), null when not compared. */
  changed: number | null;
}

/** Fraction of pixels whose grey level differs by more than `pixelDelta` between two same-sized thumbnails. */
export function changedFraction(previous: Uint8Array, current: Uint8Array, pixelDelta = PIXEL_DELTA): number {
  if (previous.length !== current.length || current.length === 0) {
    throw new RangeError(`thumbnails differ in size (${previous.length} vs ${current.length} pixels)`);
  }
  let changed = 0;
  for (let i = 0; i < current.length; i++) {
    if (Math.abs(current[i]! - previous[i]!) > pixelDelta) changed++;
  }
  return changed / current.length;
}

/** The greyscale thumbnail the gate compares, from a frame of either format. */
export async function greyThumbnail(image: FrameImage): Promise<Uint8Array> {
  if (image.format === 'yuv420') return lumaThumbnail(image, THUMB_WIDTH, THUMB_HEIGHT);
  const raw = await frameLuma(image)
    .resize(THUMB_WIDTH, THUMB_HEIGHT, { fit: 'fill', fastShrinkOnLoad: true })
    .raw()
    .toBuffer();
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
}

export class MotionGate {
  private previous: Uint8Array | null = null;
  /** Monotonic time (ms) of the last frame let through, for the forced check. */
  private lastPassedAt: number | null = null;
  /** The two thumbnails of the last comparison, for the changed-cell map of motion regions. */
  private lastComparison: { previous: Uint8Array; current: Uint8Array } | null = null;

  constructor(
    private readonly config: MotionConfig,
    private readonly now: () => number = () => performance.now(),
    private readonly thumbnail: (image: FrameImage) => Promise<Uint8Array> = greyThumbnail,
  ) {}

  /** Compares the frame with the previous one; rejects only when a JPEG frame cannot be decoded. */
  async check(image: FrameImage): Promise<GateDecision> {
    if (!this.config.enabled) return this.pass('disabled', null);
    const current = await this.thumbnail(image);
    const previous = this.previous;
    this.previous = current;
    this.lastComparison = null;
    if (!previous || previous.length !== current.length) return this.pass('first', null);
    this.lastComparison = { previous, current };
    const changed = changedFraction(previous, current);
    if (changed >= this.config.threshold) return this.pass('motion', changed);
    const now = this.now();
    if (this.lastPassedAt === null || now - this.lastPassedAt >= this.config.max_skip_s * 1000) {
      return this.pass('forced', changed);
    }
    return { detect: false, reason: 'no_motion', changed };
  }

  /** Which thumbnail pixels changed in the last comparison (null: the last check compared nothing). */
  changedCells(): ChangedCells | null {
    if (!this.lastComparison) return null;
    const { previous, current } = this.lastComparison;
    // An injected thumbnail of another size (tests) has no known grid.
    if (current.length !== THUMB_WIDTH * THUMB_HEIGHT) return null;
    const cells = Uint8Array.from(current, (value, i) => (Math.abs(value - previous[i]!) > PIXEL_DELTA ? 1 : 0));
    return { cells, width: THUMB_WIDTH, height: THUMB_HEIGHT };
  }

  /** Forgets the reference frame (camera restarted: the next frame is compared with nothing). */
  reset(): void {
    this.previous = null;
    this.lastPassedAt = null;
    this.lastComparison = null;
  }

  private pass(reason: GateReason, changed: number | null): GateDecision {
    this.lastPassedAt = this.now();
    return { detect: true, reason, changed };
  }
}
