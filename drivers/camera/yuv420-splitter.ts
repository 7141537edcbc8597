/**
 * Splits a raw yuv420 byte stream (rpicam-vid `--codec yuv420`, ffmpeg `-f rawvideo -pix_fmt yuv420p`)
 * into frames. The stream has no markers: every frame is exactly `layout.frameBytes` long, computed from
 * the configured size and the writer's row padding, so the cut is by count, bit for bit whatever the chunk
 * boundaries. Each frame is handed on cropped to its visible width (padding removed).
 */
import { cropYuv420, yuv420Layout, type Yuv420Image, type Yuv420Layout } from '../../agent/lib/frame-image.js';

export class Yuv420StreamSplitter {
  readonly layout: Yuv420Layout;
  private readonly pending: Buffer;
  /** Bytes of the frame in progress held in `pending`. */
  private filled = 0;

  /** Frames abandoned half-way (the writer restarted): the count the stream camera logs. */
  brokenFrames = 0;

  /** `yAlign`: the Y row padding in bytes (64 for rpicam-vid, 1 for ffmpeg); U/V rows have half. */
  constructor(width: number, height: number, yAlign: number) {
    this.layout = yuv420Layout(width, height, yAlign);
    this.pending = Buffer.allocUnsafe(this.layout.frameBytes);
  }

  /** Feeds the next chunk; returns the frames it completed (each a cropped copy the caller owns). */
  push(chunk: Buffer): Yuv420Image[] {
    const frames: Yuv420Image[] = [];
    const size = this.layout.frameBytes;
    let at = 0;
    if (this.filled > 0) {
      const take = Math.min(size - this.filled, chunk.length);
      chunk.copy(this.pending, this.filled, 0, take);
      this.filled += take;
      at = take;
      if (this.filled < size) return frames;
      frames.push(cropYuv420(this.pending, 0, this.layout));
      this.filled = 0;
    }
    // Whole frames straight from the chunk, without going through `pending`.
    for (; at + size <= chunk.length; at += size) frames.push(cropYuv420(chunk, at, this.layout));
    chunk.copy(this.pending, 0, at);
    this.filled = chunk.length - at;
    return frames;
  }

  /** Forgets any partial frame: the next byte starts a new stream (a restarted process). */
  reset(): void {
    if (this.filled > 0) this.brokenFrames++;
    this.filled = 0;
  }
}
