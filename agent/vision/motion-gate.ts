/**
 * Decides which camera frames are worth a detector run. Inference costs ~100 ms of both cores on a Pi,
 * shrinking a frame to a 64x48 greyscale thumbnail costs ~2 ms (a raw frame's Y plane needs no decode), so frames are compared cheaply first and
 * only a changed scene (or a forced periodic check) goes to the model.
 *
 * Motion masks (`motion.masks`) take areas out of the comparison: a timestamp overlay changes every
 * second, a tree moves with the wind. A change of the whole picture at once (a lightning flash, a car's
 * headlights sweeping the wall, the camera's IR cut filter switching at dusk) is light, not motion: the
 * gate takes the new picture as its reference and lets no frame through for motion for the next
 * LIGHT_CHANGE_QUIET_FRAMES frames while the exposure settles (the forced periodic check still runs).
 */
import { frameLuma, type FrameImage } from '../../drivers/camera/index.js';
import type { FramePolygon, MotionConfig } from '../config/types.js';
import { insideAny } from './geometry.js';
import type { ChangedCells } from './motion-regions.js';
import { lumaThumbnail } from './luma-thumbnail.js';

/** Thumbnail size: small enough to be cheap and to ignore sensor noise, large enough to see a person. */
const THUMB_WIDTH = 64;
const THUMB_HEIGHT = 48;
/** A pixel counts as changed when its grey level moves by more than this (0..255): above JPEG/sensor noise. */
const PIXEL_DELTA = 25;
/**
 * A light change, not motion: at least this fraction of the unmasked picture changed, and nearly all of
 * it (LIGHT_CHANGE_ONE_WAY) the same way, brighter or darker. A person close to the lens can fill most
 * of the picture too, but a person is not uniformly brighter than the scene behind.
 */
const LIGHT_CHANGE_AREA = 0.8;
const LIGHT_CHANGE_ONE_WAY = 0.9;
/** Frames after a light change that are not taken for motion (auto exposure settling: ~0.5 s at 5 fps). */
export const LIGHT_CHANGE_QUIET_FRAMES = 3;

export type GateReason = 'disabled' | 'first' | 'motion' | 'forced' | 'no_motion' | 'light_change';

export interface GateDecision {
  detect: boolean;
  reason: GateReason;
  /** Fraction of thumbnail pixels that changed since the previous frame (0..1), null when not compared. */
  changed: number | null;
}

export interface ThumbnailChange {
  /** Fraction (0..1) of the compared (unmasked) pixels whose grey level moved by more than the delta. */
  changed: number;
  /** Of the changed pixels, the fraction that moved the prevailing way (all brighter or all darker: 1). */
  oneWay: number;
}

/**
 * How pixel `i` changed: 1 brighter, -1 darker by more than `pixelDelta`, 0 not (or masked). The one rule
 * behind both the gate's changed fraction and the changed-cell map motion regions are built from.
 */
function pixelChange(previous: Uint8Array, current: Uint8Array, masked: Uint8Array | null, i: number, pixelDelta: number): -1 | 0 | 1 {
  if (masked?.[i]) return 0;
  const delta = current[i]! - previous[i]!;
  return delta > pixelDelta ? 1 : delta < -pixelDelta ? -1 : 0;
}

/**
 * Compares two same-sized thumbnails, leaving out the pixels `masked` marks (1 = ignored); a picture
 * masked everywhere has no change.
 */
export function compareThumbnails(previous: Uint8Array, current: Uint8Array, masked: Uint8Array | null = null, pixelDelta = PIXEL_DELTA): ThumbnailChange {
  if (previous.length !== current.length || current.length === 0) {
    throw new RangeError(`thumbnails differ in size (${previous.length} vs ${current.length} pixels)`);
  }
  let compared = 0;
  let brighter = 0;
  let darker = 0;
  for (let i = 0; i < current.length; i++) {
    if (masked?.[i]) continue;
    compared++;
    const change = pixelChange(previous, current, null, i, pixelDelta);
    if (change > 0) brighter++;
    else if (change < 0) darker++;
  }
  const changed = brighter + darker;
  return { changed: compared === 0 ? 0 : changed / compared, oneWay: changed === 0 ? 0 : Math.max(brighter, darker) / changed };
}

/** Fraction of pixels whose grey level differs by more than `pixelDelta` between two same-sized thumbnails. */
export function changedFraction(previous: Uint8Array, current: Uint8Array, pixelDelta = PIXEL_DELTA): number {
  return compareThumbnails(previous, current, null, pixelDelta).changed;
}

/** The thumbnail's pixels whose centre lies in a mask (1), as a bitmap the size of the thumbnail. */
export function maskBitmap(masks: readonly FramePolygon[], width = THUMB_WIDTH, height = THUMB_HEIGHT): Uint8Array | null {
  if (masks.length === 0) return null;
  const bitmap = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (insideAny([(x + 0.5) / width, (y + 0.5) / height], masks)) bitmap[y * width + x] = 1;
    }
  }
  return bitmap;
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
  /** Frames still to pass after a light change before motion counts again. */
  private quietFrames = 0;
  /** The bitmap of `config.masks`, remade when a live change replaces the list. */
  private mask: { of: readonly FramePolygon[]; bitmap: Uint8Array | null } | null = null;
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
    const { changed, oneWay } = compareThumbnails(previous, current, this.maskOf(this.config.masks));
    let quiet = this.quietFrames > 0;
    if (quiet) this.quietFrames--;
    if (changed >= LIGHT_CHANGE_AREA && oneWay >= LIGHT_CHANGE_ONE_WAY) {
      this.quietFrames = LIGHT_CHANGE_QUIET_FRAMES;
      quiet = true;
    }
    if (!quiet && changed >= this.config.threshold) return this.pass('motion', changed);
    const now = this.now();
    if (this.lastPassedAt === null || now - this.lastPassedAt >= this.config.max_skip_s * 1000) {
      return this.pass('forced', changed);
    }
    return { detect: false, reason: quiet ? 'light_change' : 'no_motion', changed };
  }

  /** Which thumbnail pixels changed in the last comparison (null: the last check compared nothing). */
  changedCells(): ChangedCells | null {
    if (!this.lastComparison) return null;
    const { previous, current } = this.lastComparison;
    // An injected thumbnail of another size (tests) has no known grid.
    if (current.length !== THUMB_WIDTH * THUMB_HEIGHT) return null;
    // Masked pixels never make a region: they did not count as motion either.
    const masked = this.maskOf(this.config.masks);
    const cells = Uint8Array.from(current, (_, i) => (pixelChange(previous, current, masked, i, PIXEL_DELTA) === 0 ? 0 : 1));
    return { cells, width: THUMB_WIDTH, height: THUMB_HEIGHT };
  }

  /** Forgets the reference frame (camera restarted: the next frame is compared with nothing). */
  reset(): void {
    this.previous = null;
    this.lastPassedAt = null;
    this.quietFrames = 0;
    this.lastComparison = null;
  }

  private maskOf(masks: readonly FramePolygon[]): Uint8Array | null {
    if (this.mask?.of !== masks) this.mask = { of: masks, bitmap: maskBitmap(masks) };
    return this.mask.bitmap;
  }

  private pass(reason: GateReason, changed: number | null): GateDecision {
    this.lastPassedAt = this.now();
    return { detect: true, reason, changed };
  }
}
