/**
 * Camera sequences as plans: one Shot per frame says what the camera sees (which part of which photo,
 * how bright, what cut-out is pasted where). The plans are plain data, so what a sequence shows on each
 * frame can be checked without rendering; render() turns them into frames with the camera's noise.
 */
import type { RawRgbImage } from '../../../models/types.js';
import { seededRandom } from '../../train/forecast-mlp.js';
import { addNoise, brighten, paste, view, type Region } from './frames.js';

export interface Size {
  width: number;
  height: number;
}

/** A cut-out (a person cropped from a photo) and where its top left corner is, in frame pixels. */
export interface Placement {
  image: RawRgbImage;
  left: number;
  top: number;
}

export interface Shot {
  scene: RawRgbImage;
  /** The part of the scene in view (pans and zooms), resized to the frame size; default the whole scene. */
  view?: Region;
  /** Light level: 1 as photographed, below 1 darker, above 1 brighter (clipped at white). */
  gain: number;
  /** Pasted over the view, before the light level applies (the person is lit like the room). */
  patch?: Placement;
}

export const whole = (image: RawRgbImage): Region => ({ left: 0, top: 0, width: image.width, height: image.height });

/** `count` values from `from` to `to` in equal steps, both ends included. */
export function ramp(from: number, to: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => (count === 1 ? from : from + ((to - from) * i) / (count - 1)));
}

/** A region moved and resized in equal steps from `from` to `to` (a pan with a zoom), in whole pixels. */
export function glide(from: Region, to: Region, count: number): Region[] {
  const [left, top, width, height] = (['left', 'top', 'width', 'height'] as const).map((key) => ramp(from[key], to[key], count).map(Math.round));
  return Array.from({ length: count }, (_, i) => ({ left: left![i]!, top: top![i]!, width: width![i]!, height: height![i]! }));
}

export function still(scene: RawRgbImage, count: number, gain = 1): Shot[] {
  return Array.from({ length: count }, () => ({ scene, gain }));
}

export function panZoom(scene: RawRgbImage, from: Region, to: Region, count: number): Shot[] {
  return glide(from, to, count).map((region) => ({ scene, view: region, gain: 1 }));
}

/** The light fading (or rising) slowly from `from` to `to`: dusk, a cloud. */
export function drift(scene: RawRgbImage, from: number, to: number, count: number): Shot[] {
  return ramp(from, to, count).map((gain) => ({ scene, gain }));
}

/** One frame at `gain` (a camera flash, lightning, headlights) at index `at`, the others as photographed. */
export function flash(scene: RawRgbImage, count: number, at: number, gain: number): Shot[] {
  return Array.from({ length: count }, (_, i) => ({ scene, gain: i === at ? gain : 1 }));
}

/** `patch` at each of `positions` in turn (top left corners): a person walking, or standing where the path stops. */
export function walk(scene: RawRgbImage, patch: RawRgbImage, positions: readonly { left: number; top: number }[]): Shot[] {
  return positions.map((p) => ({ scene, gain: 1, patch: { image: patch, left: p.left, top: p.top } }));
}

/** `image` scaled to the largest size that fits in `box` (aspect ratio kept), centred in it. */
export async function fitInto(image: RawRgbImage, box: Region): Promise<Placement> {
  const scale = Math.min(box.width / image.width, box.height / image.height);
  const size = { width: Math.round(image.width * scale), height: Math.round(image.height * scale) };
  return {
    image: await view(image, whole(image), size),
    left: box.left + Math.round((box.width - size.width) / 2),
    top: box.top + Math.round((box.height - size.height) / 2),
  };
}

/** `count` positions from x = `fromLeft` to `toLeft` at height `top`. */
export function path(fromLeft: number, toLeft: number, top: number, count: number): { left: number; top: number }[] {
  return ramp(fromLeft, toLeft, count).map((left) => ({ left: Math.round(left), top }));
}

/** The frames of a plan, all of `size`, each with its own seeded sensor noise of `sigma` grey levels. */
export async function render(shots: readonly Shot[], size: Size, noise: { sigma: number; seed: number }): Promise<RawRgbImage[]> {
  const next = seededRandom(noise.seed);
  const frames: RawRgbImage[] = [];
  for (const shot of shots) {
    let frame = await view(shot.scene, shot.view ?? whole(shot.scene), size);
    if (shot.patch) frame = paste(frame, shot.patch.image, shot.patch.left, shot.patch.top);
    if (shot.gain !== 1) frame = brighten(frame, shot.gain);
    frames.push(noise.sigma > 0 ? addNoise(frame, noise.sigma, next) : frame);
  }
  return frames;
}
