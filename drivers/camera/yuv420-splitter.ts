/**
 * Splits a raw yuv420 byte stream (rpicam-vid `--codec yuv420`, ffmpeg `-f rawvideo -pix_fmt yuv420p`)
 * into frames. The stream has no markers: every frame is exactly `layout.frameBytes` long, computed from
 * the configured size and the writer's row padding, so the cut is by count, bit for bit whatever the chunk
 * boundaries. Each frame is handed on cropped to its visible width (padding removed).
 *
 * A frame spans ~20 pipe reads (1.4 MB at 1280x720, reads of at most 64 KB), so it is gathered in a
 * buffer of its own; when its rows have no padding (any width that is a multiple of 64) that buffer is
 * the frame handed on, with no second copy of it.
 */
import { cropYuv420, hasRowPadding, yuv420Layout, type Yuv420Image, type Yuv420Layout } from '../../agent/lib/frame-image.js';

export class Yuv420StreamSplitter {
  readonly layout: Yuv420Layout;
  private readonly padded: boolean;
  /** The frame in progress; replaced when handed on as it is (no padding), reused otherwise. */
  private pending: Buffer;
  /** Bytes of the frame in progress held in `pending`. */
  private filled = 0;

  /** Frames abandoned half-way (the writer restarted): the count the stream camera logs. */
  brokenFrames = 0;

  /** `yAlign`: the Y row padding in bytes (64 for rpicam-vid, 1 for ffmpeg); U/V rows have half. */
  constructor(width: number, height: number, yAlign: number) {
    this.layout = yuv420Layout(width, height, yAlign);
    this.padded = hasRowPadding(this.layout);
    this.pending = Buffer.allocUnsafe(this.layout.frameBytes);
  }

  /** Feeds the next chunk; returns the frames it completed (each unpadded, in memory the caller owns). */
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
      frames.push(this.takePending());
      this.filled = 0;
    }
    // Whole frames straight from the chunk, without going through `pending`.
    for (; at + size <= chunk.length; at += size) frames.push(cropYuv420(chunk, at, this.layout));
    chunk.copy(this.pending, 0, at);
    this.filled = chunk.length - at;
    return frames;
  }

  /** The completed frame in `pending`: handed on as it is when unpadded, else cropped out of it. */
  private takePending(): Yuv420Image {
    if (this.padded) return cropYuv420(this.pending, 0, this.layout);
    const { width, height } = this.layout;
    const frame = this.pending;
    this.pending = Buffer.allocUnsafe(this.layout.frameBytes);
    // A plain Uint8Array like every cropped frame, not the Buffer it was gathered in.
    return { format: 'yuv420', width, height, data: new Uint8Array(frame.buffer, frame.byteOffset, frame.length) };
  }

  /** Forgets any partial frame: the next byte starts a new stream (a restarted process). */
  reset(): void {
    if (this.filled > 0) this.brokenFrames++;
    this.filled = 0;
  }
}
