/**
 * Runs the detector on regions of a frame instead of the whole frame, and maps the boxes back. A raw
 * yuv420 frame is cropped by copying plane rows (no decode, no colour conversion: the detector
 * letterboxes the crop from its planes); a JPEG frame is decoded once with the crop applied by libvips.
 * Boxes from several regions are merged with the detector's class-aware NMS, so an object seen by two
 * regions is reported once.
 */
import sharp from 'sharp';
import type { FrameImage, Yuv420Image } from '../../drivers/camera/index.js';
import { nonMaxSuppression } from '../../models/nms.js';
import type { DetectedObject, DetectionResult, DetectorImage, IntruderDetector, RawRgbImage } from '../../models/types.js';
import type { Region } from './motion-regions.js';

/** IoU above which two same-class boxes from different regions are one object. */
const MERGE_IOU = 0.5;

/** The region's pixels of a yuv420 frame (region x, y, width and height even). */
export function cropYuv420Region(image: Yuv420Image, region: Region): Yuv420Image {
  const { x, y, width, height } = region;
  const chromaFrameWidth = Math.ceil(image.width / 2);
  const chromaFrameHeight = Math.ceil(image.height / 2);
  const chromaWidth = Math.ceil(width / 2);
  const chromaHeight = Math.ceil(height / 2);
  const out = new Uint8Array(width * height + 2 * chromaWidth * chromaHeight);
  for (let row = 0; row < height; row++) {
    const from = (y + row) * image.width + x;
    out.set(image.data.subarray(from, from + width), row * width);
  }
  const planeBytes = chromaFrameWidth * chromaFrameHeight;
  for (let plane = 0; plane < 2; plane++) {
    const source = image.width * image.height + plane * planeBytes;
    const target = width * height + plane * chromaWidth * chromaHeight;
    for (let row = 0; row < chromaHeight; row++) {
      const from = source + (y / 2 + row) * chromaFrameWidth + x / 2;
      out.set(image.data.subarray(from, from + chromaWidth), target + row * chromaWidth);
    }
  }
  return { format: 'yuv420', width, height, data: out };
}

async function cropJpegRegion(jpeg: Buffer, region: Region): Promise<RawRgbImage> {
  const { data, info } = await sharp(jpeg)
    .extract({ left: region.x, top: region.y, width: region.width, height: region.height })
    .removeAlpha()
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** The region's pixels, in a form the detector reads. */
export function cropRegion(image: FrameImage, region: Region): Promise<DetectorImage> {
  return image.format === 'yuv420' ? Promise.resolve(cropYuv420Region(image, region)) : cropJpegRegion(image.data, region);
}

function shifted(object: DetectedObject, region: Region): DetectedObject {
  const { xmin, ymin, xmax, ymax } = object.bbox;
  return { ...object, bbox: { xmin: xmin + region.x, ymin: ymin + region.y, xmax: xmax + region.x, ymax: ymax + region.y } };
}

/** One object per class and place: the highest-scored of boxes that overlap across regions. */
export function mergeAcrossRegions(objects: readonly DetectedObject[]): DetectedObject[] {
  const boxes = new Float32Array(objects.flatMap((o) => [o.bbox.xmin, o.bbox.ymin, o.bbox.xmax, o.bbox.ymax]));
  const scores = Float32Array.from(objects, (o) => o.confidence);
  const names = [...new Set(objects.map((o) => o.class))];
  const classes = Int32Array.from(objects, (o) => names.indexOf(o.class));
  return nonMaxSuppression(boxes, scores, classes, MERGE_IOU).map((i) => objects[i]!);
}

/**
 * Detects on each region of the frame (one after the other: the detector runs one session) and returns
 * one result in frame coordinates, as a full-frame detection would.
 */
export async function detectInRegions(detector: IntruderDetector, image: FrameImage, frame: { width: number; height: number }, regions: readonly Region[]): Promise<DetectionResult> {
  const timings = { decode: 0, inference: 0, postprocess: 0, total: 0 };
  const found: DetectedObject[] = [];
  let total = 0;
  for (const region of regions) {
    const cropStart = performance.now();
    const crop = await cropRegion(image, region);
    timings.decode += performance.now() - cropStart;
    const result = await detector.detect(crop);
    for (const key of ['decode', 'inference', 'postprocess', 'total'] as const) timings[key] += result.timings_ms[key];
    timings.total += performance.now() - cropStart - result.timings_ms.total;
    total += result.total_objects;
    found.push(...result.objects.map((o) => shifted(o, region)));
  }
  const objects = mergeAcrossRegions(found);
  const round = (value: number) => Number(value.toFixed(2));
  return {
    intruder: objects.length > 0,
    objects,
    total_objects: total,
    timings_ms: { decode: round(timings.decode), inference: round(timings.inference), postprocess: round(timings.postprocess), total: round(timings.total) },
    image: { width: frame.width, height: frame.height },
  };
}
