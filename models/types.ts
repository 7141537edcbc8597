/** Plain data shared by the model runners and their callers (pipelines, HTTP, CLI). */
import type { FrameImage } from '../agent/lib/frame-image.js';

export interface BoundingBox {
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
}

export interface DetectedObject {
  class: string;
  confidence: number;
  /** In original-image pixels, clipped to the image. */
  bbox: BoundingBox;
}

export interface DetectionTimings {
  decode: number;
  inference: number;
  postprocess: number;
  total: number;
}

export interface DetectionResult {
  intruder: boolean;
  /** Intruder-class detections at or above the threshold, highest confidence first. */
  objects: DetectedObject[];
  total_objects: number;
  timings_ms: DetectionTimings;
  /** Size of the image the boxes refer to. */
  image: { width: number; height: number };
}

/** A raw interleaved RGB frame (3 bytes per pixel, row-major). */
export interface RawRgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * What the detector reads: encoded image bytes (JPEG, PNG...), a raw RGB frame, or a camera frame as the
 * camera delivered it (a JPEG, or raw yuv420 letterboxed without any JPEG round trip).
 */
export type DetectorImage = Uint8Array | RawRgbImage | FrameImage;

export interface ModelInfo {
  name: string;
  version: string;
  /** sha256 of the model file, hex. */
  sha256: string;
  path: string;
}

export interface IntruderDetector {
  readonly info: ModelInfo;
  /** The size images are letterboxed to, when known (motion regions are at least this big). */
  readonly inputSize?: { readonly width: number; readonly height: number };
  /** Encoded image bytes (JPEG, PNG, WebP) or a raw RGB frame. Rejects with a clear reason on bad input. */
  detect(image: DetectorImage): Promise<DetectionResult>;
  close(): Promise<void>;
}

export interface ForecastContract {
  /** Number of readings the model takes, oldest first. */
  window: number;
  /** Seconds between two readings. */
  step_s: number;
  /** Seconds from the last reading to the predicted one. */
  horizon_s: number;
  unit: 'Celsius';
}

/** The range of last readings a model with a level input was trained on (its ONNX metadata says so). */
export interface LevelRange {
  min: number;
  max: number;
  /** Further than this outside [min, max], the model forecasts from the hour's shape alone. */
  margin: number;
}

export interface Forecaster {
  readonly info: ModelInfo;
  readonly contract: ForecastContract;
  /** Where the model is at home, when its metadata states it (the shipped model does); absent otherwise. */
  readonly levelRange?: LevelRange | null;
  /** Predicted temperature, rounded to 2 decimals. Throws a clear error on invalid windows. */
  forecast(values: readonly number[]): Promise<number>;
  /** Many windows in one inference call; the caller validates each window first. */
  forecastBatch(windows: readonly (readonly number[])[]): Promise<number[]>;
  close(): Promise<void>;
}
