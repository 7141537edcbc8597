/**
 * Splits a raw yuv420 byte stream (rpicam-vid `--codec yuv420`, ffmpeg `-f rawvideo -pix_fmt yuv420p`)
 * into frames. The stream has no markers: every frame is exactly `layout.frameBytes` long, computed from
 * the configured size and the writer's row padding, so the cut is by count, bit for bit whatever the read
 * boundaries. Each frame is handed on cropped to its visible width (padding removed).
 *
 * The reader writes straight into the frame being gathered (`readBuffer()` is the rest of it), so a read
 * never spans two frames and no byte is copied on the way; when the rows have no padding (any width that
 * is a multiple of 64) that memory is the frame handed on.
 *
 * Frame memory is reused: a frame the consumer gives back (`recycle`) takes a later frame. At 1280x720
 * and 10 fps a new 1.4 MB frame each time cost about 2 % of a core here in page faults alone (the
 * allocator maps fresh pages for each, the kernel zeroes them), more than everything else a static scene
 * costs. A frame never given back is simply left to the garbage collector.
 */
import { cropYuv420, hasRowPadding, yuv420Layout, type FrameImage, type Yuv420Image, type Yuv420Layout } from '../../agent/lib/frame-image.js';

/** Frames kept for reuse: enough for one in the camera's mailbox, one with the consumer and one spare. */
const SPARE_FRAMES = 3;

export class Yuv420StreamSplitter {
  readonly layout: Yuv420Layout;
  private readonly padded: boolean;
  /** Bytes of one frame as handed on (unpadded). */
  private readonly frameBytes: number;
  /** The frame being gathered, as the writer sends it (with its padding). */
  private pending: Uint8Array;
  /** Bytes of the frame in progress held in `pending`. */
  private filled = 0;
  /** Memory of frames handed on and not given back yet: only these may be recycled, and only once. */
  private readonly lent = new WeakSet<Uint8Array>();
  private readonly spare: Uint8Array[] = [];

  /** Frames abandoned half-way (the writer restarted): the count the stream camera logs. */
  brokenFrames = 0;

  /** `yAlign`: the Y row padding in bytes (64 for rpicam-vid, 1 for ffmpeg); U/V rows have half. */
  constructor(width: number, height: number, yAlign: number) {
    this.layout = yuv420Layout(width, height, yAlign);
    this.padded = hasRowPadding(this.layout);
    this.frameBytes = yuv420Layout(width, height).frameBytes;
    // Padded rows are gathered in memory of their own and cropped out of it; unpadded ones in a frame's.
    this.pending = this.padded ? new Uint8Array(this.layout.frameBytes) : this.frameMemory();
  }

  /** Where the next bytes read go: the rest of the frame in progress (at least one byte). */
  readBuffer(): Uint8Array {
    return this.pending.subarray(this.filled);
  }

  /** The last read wrote `bytes` bytes at the start of `readBuffer()`; returns the frame it completed, if any. */
  received(bytes: number): Yuv420Image[] {
    this.filled += bytes;
    if (this.filled < this.layout.frameBytes) return [];
    this.filled = 0;
    return [this.takePending()];
  }

  /** The consumer is done with a frame this splitter handed on: its memory may take a later frame. */
  recycle(image: FrameImage): void {
    if (!this.lent.has(image.data)) return;
    this.lent.delete(image.data);
    if (this.spare.length < SPARE_FRAMES) this.spare.push(image.data);
  }

  /** Forgets any partial frame: the next byte starts a new stream (a restarted process). */
  reset(): void {
    if (this.filled > 0) this.brokenFrames++;
    this.filled = 0;
  }

  /** The completed frame in `pending`: cropped out of it when padded, else handed on as it is. */
  private takePending(): Yuv420Image {
    const { width, height } = this.layout;
    if (this.padded) return cropYuv420(this.pending, 0, this.layout, this.frameMemory());
    const data = this.pending;
    this.pending = this.frameMemory();
    return { format: 'yuv420', width, height, data };
  }

  /** Memory for one unpadded frame, reused when a spare is at hand; counted as lent from now on. */
  private frameMemory(): Uint8Array {
    const memory = this.spare.pop() ?? new Uint8Array(this.frameBytes);
    this.lent.add(memory);
    return memory;
  }
}
