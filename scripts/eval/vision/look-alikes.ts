/**
 * Static false positives: a picture of a person or an animal hung sideways or upside down (a poster, a
 * photo on a shelf) that the model half believes, scoring it near the confirmation threshold frame after
 * frame. The evaluation cannot rely on luck to meet such a case, so it searches the fixture photos for
 * them: every crop of every photo, turned 90, 180 or 270 degrees, is hung where the sequences will hang
 * it (scaled into its place in the empty scene: the model's score depends on the picture's size in the
 * frame) and the whole frame is scored once; those in the band are scored again on several noisy frames,
 * and those seen on every noisy frame with a median score still in the band are look-alikes (sensor
 * noise moves a single score by up to 0.15 either way, so "every frame in the band" finds almost
 * nothing, while the tracker decides on the median).
 * (Crops clear of every intruder box were tried too while writing this: none scored 0.5, the best was
 * person.jpg's horse turned 90 degrees, bear 0.48.)
 */
import type { IntruderDetector, RawRgbImage } from '../../../models/types.js';
import { median } from '../../../agent/vision/object-tracker.js';
import { seededRandom } from '../../train/forecast-mlp.js';
import { addNoise, crop, encodeJpeg, paste, rotate, type Region } from './frames.js';
import type { Placement } from './scenes.js';

export type Rotation = 90 | 180 | 270;

export interface LookAlikeSearch {
  /** Scores that count as "near the threshold": [low, high). */
  band: readonly [number, number];
  /** Noisy frames every in-band crop is scored on. */
  frames: number;
  noiseSigma: number;
  /** The scene the pictures hang in (the empty scene). */
  wall: RawRgbImage;
  /** Where and how large a picture (a turned crop) hangs on the wall. */
  hang: (picture: RawRgbImage) => Promise<Placement>;
}

export interface LookAlike {
  source: string;
  region: Region;
  rotation: Rotation;
  label: string;
  /** The crop, turned and scaled, and where it hangs on the wall. */
  placement: Placement;
  /** The label's best score on each noisy frame of the wall with the picture hung. */
  scores: number[];
}

export interface SearchOutcome {
  tried: number;
  /** Crops in the band on the clean frame, whether or not they held it under noise. */
  inBand: number;
  found: LookAlike[];
}

const ROTATIONS: readonly Rotation[] = [90, 180, 270];

/** Where to look: the whole photo and windows of two thirds of its sides at its corners and centre. */
export function candidateRegions(width: number, height: number): Region[] {
  const w = Math.round((width * 2) / 3);
  const h = Math.round((height * 2) / 3);
  const at = (fx: number, fy: number): Region => ({ left: Math.round((width - w) * fx), top: Math.round((height - h) * fy), width: w, height: h });
  return [{ left: 0, top: 0, width, height }, at(0, 0), at(1, 0), at(0.5, 0.5), at(0, 1), at(1, 1)];
}

/** Seen on every frame (at the band's low end or above), the median below the band's top. */
export function isLookAlike(scores: readonly number[], [low, high]: readonly [number, number]): boolean {
  return scores.length > 0 && scores.every((s) => s >= low) && median(scores) < high;
}

/** The best score per intruder label on the image, as the camera would send it (a JPEG). */
async function bestScores(detector: IntruderDetector, image: RawRgbImage): Promise<Map<string, number>> {
  const result = await detector.detect(await encodeJpeg(image));
  const best = new Map<string, number>();
  for (const o of result.objects) best.set(o.class, Math.max(best.get(o.class) ?? 0, o.confidence));
  return best;
}

/** Searches the photos for look-alikes; `detector` must report scores from the band's low end or below. */
export async function findLookAlikes(detector: IntruderDetector, photos: readonly { name: string; image: RawRgbImage }[], search: LookAlikeSearch): Promise<SearchOutcome> {
  const [low, high] = search.band;
  const inBand = (score: number) => score >= low && score < high;
  const outcome: SearchOutcome = { tried: 0, inBand: 0, found: [] };
  for (const photo of photos) {
    for (const region of candidateRegions(photo.image.width, photo.image.height)) {
      for (const rotation of ROTATIONS) {
        outcome.tried++;
        const placement = await search.hang(await rotate(crop(photo.image, region), rotation));
        const image = paste(search.wall, placement.image, placement.left, placement.top);
        const labels = [...(await bestScores(detector, image))].filter(([, score]) => inBand(score)).map(([label]) => label);
        if (labels.length === 0) continue;
        outcome.inBand++;
        const next = seededRandom(outcome.tried);
        const frames = [];
        for (let i = 0; i < search.frames; i++) frames.push(await bestScores(detector, addNoise(image, search.noiseSigma, next)));
        for (const label of labels) {
          const scores = frames.map((f) => f.get(label) ?? 0);
          if (isLookAlike(scores, search.band)) outcome.found.push({ source: photo.name, region, rotation, label, placement, scores });
        }
      }
    }
  }
  return outcome;
}

/** Up to `count` look-alikes from different photos, the highest median score first: the hardest to reject. */
export function hardest(found: readonly LookAlike[], count: number): LookAlike[] {
  const picked: LookAlike[] = [];
  for (const candidate of [...found].sort((a, b) => median(b.scores) - median(a.scores))) {
    if (picked.length < count && !picked.some((p) => p.source === candidate.source)) picked.push(candidate);
  }
  return picked;
}
