/** The camera seam: every camera driver (rpicam, still, ffmpeg, directory replay) implements it. */
import type { FrameImage } from '../../agent/lib/frame-image.js';

export type { FrameImage, JpegImage, Yuv420Image } from '../../agent/lib/frame-image.js';

/** Every `camera.driver` value; `none` is no camera at all (vision off). */
export const CAMERA_DRIVERS = ['rpicam', 'still', 'ffmpeg', 'dir', 'none'] as const;

export type CameraDriver = (typeof CAMERA_DRIVERS)[number];

/** Every `camera.format` value: what rpicam-vid and ffmpeg send (dir and still always give JPEG). */
export const CAMERA_FORMATS = ['yuv420', 'mjpeg'] as const;

export type CameraFormat = (typeof CAMERA_FORMATS)[number];

/** The `camera:` section of the configuration: what every camera driver is built from. */
export interface CameraOptions {
  driver: CameraDriver;
  width: number;
  height: number;
  fps: number;
  /** 0 or 180 (what rpicam-apps support). */
  rotation: 0 | 180;
  hflip: boolean;
  vflip: boolean;
  /** rpicam: `--camera N`. */
  index: number;
  /** dir: folder of images to replay. */
  dir: string | null;
  /** dir: start again at the first image after the last. */
  loop: boolean;
  /** ffmpeg: `/dev/videoN` or an rtsp:// / http(s):// URL. */
  input: string | null;
  /** rpicam and ffmpeg: raw yuv420 frames (no encode on the device, no decode in the agent) or MJPEG. */
  format: CameraFormat;
  /** Restart the capture process when no frame came for this long. */
  stall_timeout_s: number;
  /** still: seconds between two stills. */
  still_interval_s: number;
}

export interface Frame {
  /** The pixels: a JPEG or raw yuv420, as the driver received them (drivers/camera/frame-pixels.ts reads either). */
  image: FrameImage;
  /** Increases by one per frame the driver produced (dropped frames leave gaps). */
  seq: number;
  /** Capture time, milliseconds since the epoch (UTC). */
  ts: number;
  /**
   * Gives the frame's memory back to the camera for a later frame (the rpicam and ffmpeg drivers reuse
   * raw frames' memory). Call it once done with `image`, and read `image` no more after; a frame never
   * released costs nothing but a new allocation. Calling it again does nothing.
   */
  release(): void;
}

export interface CameraStats {
  fps: number;
  frames: number;
  dropped: number;
  restarts: number;
  /** Milliseconds since the last frame, or null before the first one. */
  last_frame_age_ms: number | null;
  /** The last error that made the driver restart, if any. */
  last_error: string | null;
}

export interface Camera extends AsyncIterable<Frame> {
  readonly name: string;
  start(): Promise<void>;
  /** Stops capture and releases the device; iteration ends. Idempotent. */
  stop(): Promise<void>;
  stats(): CameraStats;
}
