/**
 * The evaluation's camera sequences, made from the fixture photos at run time (nothing of them is
 * committed). coffee.png (a cup on a table, no intruder) is the empty scene; the intruder is a person
 * cropped from bus.jpg by the model's own box, or the people and dog of person.jpg and dog.jpg. Every
 * sequence with an intruder or a look-alike begins with frames of the empty scene: what is on the first
 * frame the agent analyses counts as already there (stationary), not as an intrusion.
 */
import type { RawRgbImage } from '../../../models/types.js';
import type { Region } from './frames.js';
import type { LookAlike } from './look-alikes.js';
import { drift, fitInto, flash, panZoom, path, still, walk, whole, type Placement, type Shot, type Size } from './scenes.js';

export type SequenceKind = 'no intruder' | 'intruder' | 'standing intruder';

export interface SequencePlan {
  name: string;
  kind: SequenceKind;
  size: Size;
  shots: Shot[];
  /** Index of the first frame showing what the sequence is about (its intruder or its look-alike); null when nothing appears. */
  firstSubjectFrame: number | null;
}

export interface SequencePhotos {
  /** The empty scene. */
  empty: RawRgbImage;
  /** A person cut out of a photo, at the size they appear in the empty scene. */
  person: RawRgbImage;
  /** person.jpg: a person (and a dog). */
  people: RawRgbImage;
  /** dog.jpg: a dog. */
  dog: RawRgbImage;
}

export interface SequenceLengths {
  /** Frames of most sequences (at 2 fps, 16 frames are 8 s: enough for a track's 10 scores). */
  frames: number;
  /** Empty frames before an intruder or a look-alike appears. */
  lead: number;
  /** Frames a look-alike hangs still once carried in: more than the 10 scores that decide its track. */
  hung: number;
  /** Frames the standing intruder stands still: longer than stationary.after_s + clear_after_s. */
  standing: number;
}

/** The largest region of `image` with the aspect ratio of `size`, shrunk to `fraction`, placed at fractions (`fx`, `fy`) of the room left around it. */
function framing(image: RawRgbImage, size: Size, fraction: number, fx: number, fy: number): Region {
  const width = Math.round(Math.min(image.width, (image.height * size.width) / size.height) * fraction);
  const height = Math.round((width * size.height) / size.width);
  return { left: Math.round((image.width - width) * fx), top: Math.round((image.height - height) * fy), width, height };
}

export function intruderPlans(photos: SequencePhotos, lengths: SequenceLengths): SequencePlan[] {
  const { empty, person } = photos;
  const size = { width: empty.width, height: empty.height };
  const { frames, lead } = lengths;
  const top = empty.height - person.height - 10;
  const walkIn = path(0, Math.round(empty.width / 2 - person.width / 2), top, 6);
  const standing = walkIn.at(-1)!;
  const cutTo = (photo: RawRgbImage, from: Region, to: Region): Shot[] => [
    ...still(empty, lead),
    ...panZoom(photo, from, to, frames - lead),
  ];
  return [
    {
      name: 'person crossing the empty scene',
      kind: 'intruder',
      size,
      shots: [...still(empty, lead), ...walk(empty, person, path(0, empty.width - person.width, top, frames - lead))],
      firstSubjectFrame: lead,
    },
    {
      name: 'person.jpg: cut to it, pan and zoom',
      kind: 'intruder',
      size,
      shots: cutTo(photos.people, framing(photos.people, size, 1, 0, 0), framing(photos.people, size, 0.7, 0.3, 0.6)),
      firstSubjectFrame: lead,
    },
    {
      name: 'dog.jpg: cut to it, pan',
      kind: 'intruder',
      size,
      shots: cutTo(photos.dog, framing(photos.dog, size, 0.9, 0, 0), framing(photos.dog, size, 0.9, 1, 1)),
      firstSubjectFrame: lead,
    },
    {
      name: 'person walks in and stands still',
      kind: 'standing intruder',
      size,
      shots: [...still(empty, lead), ...walk(empty, person, [...walkIn, ...Array.from({ length: lengths.standing }, () => standing)])],
      firstSubjectFrame: lead,
    },
  ];
}

export function emptyScenePlans(empty: RawRgbImage, lengths: SequenceLengths): SequencePlan[] {
  const size = { width: empty.width, height: empty.height };
  const { frames } = lengths;
  const plan = (name: string, shots: Shot[]): SequencePlan => ({ name, kind: 'no intruder', size, shots, firstSubjectFrame: null });
  return [
    plan('empty scene, sensor noise', still(empty, frames)),
    plan('empty scene, pan and zoom', panZoom(empty, whole(empty), framing(empty, size, 0.6, 0.8, 0.5), frames)),
    plan('empty scene, light fading (x1 to x0.5)', drift(empty, 1, 0.5, frames)),
    plan('empty scene, one-frame flash (x3)', flash(empty, frames, Math.floor(frames / 2), 3)),
  ];
}

/**
 * Where a look-alike hangs in the empty scene, in fractions of its width and height: the right half. At
 * most 40 % of the frame, so carrying it in changes well under the 80 % of the picture that the motion
 * gate takes for a light change rather than motion.
 */
const LOOK_ALIKE_PLACE = { left: 0.47, top: 0.1, width: 0.5, height: 0.8 };
/** Frames a look-alike takes to be carried in from the right edge to its place (2 s at 2 fps). */
const CARRY_FRAMES = 4;

/** How a picture (a turned crop) hangs in `empty`: scaled to fit LOOK_ALIKE_PLACE. */
export function hangIn(empty: RawRgbImage): (picture: RawRgbImage) => Promise<Placement> {
  const { width, height } = empty;
  const place = LOOK_ALIKE_PLACE;
  const box = { left: Math.round(width * place.left), top: Math.round(height * place.top), width: Math.round(width * place.width), height: Math.round(height * place.height) };
  return (picture) => fitInto(picture, box);
}

/**
 * A look-alike carried into the empty scene from the right edge over CARRY_FRAMES frames, then hanging
 * still in its place for `lengths.hung` frames. It arrives as local motion, which the motion gate lets
 * through (a picture that appeared all at once, as when a light goes on, is a light change the gate
 * holds back), so the detector sees it arrive, and a track it opens is then analysed on every frame
 * until its scores decide it: the confirmation thresholds, not the gate, keep it from alerting.
 */
export function lookAlikePlan(lookAlike: LookAlike, empty: RawRgbImage, lengths: SequenceLengths): SequencePlan {
  const { image, left, top } = lookAlike.placement;
  const carried = path(empty.width, left, top, CARRY_FRAMES + 1).slice(1);
  const hanging = Array.from({ length: lengths.hung }, () => ({ left, top }));
  return {
    name: `look-alike: ${describe(lookAlike)}`,
    kind: 'no intruder',
    size: { width: empty.width, height: empty.height },
    shots: [...still(empty, lengths.lead), ...walk(empty, image, [...carried, ...hanging])],
    firstSubjectFrame: lengths.lead,
  };
}

export function describe(lookAlike: LookAlike): string {
  const { source, region, rotation } = lookAlike;
  return `${source} [${region.left},${region.top} ${region.width}x${region.height}] turned ${rotation}°`;
}
