/** The camera seam: every camera driver (rpicam, still, ffmpeg, directory replay) implements it. */

export interface Frame {
  /** One complete JPEG image, SOI to EOI. */
  jpeg: Buffer;
  /** Increases by one per frame the driver produced (dropped frames leave gaps). */
  seq: number;
  /** Capture time, milliseconds since the epoch (UTC). */
  ts: number;
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
