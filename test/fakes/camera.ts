/**
 * An in-memory camera behind the `Camera` seam (drivers/camera/types.ts), built on the drivers' own
 * BaseCamera so it keeps their promises: frame numbering and stamping, latest-frame-wins (a frame the
 * reader has not taken yet is replaced and counted as dropped), stats, single use. It passes the
 * Camera contract (test/drivers/camera/contract.test.ts).
 *
 * Frames come from the test, one `show()` at a time, or with `live` on a timer, as a real camera
 * produces them whether anyone reads or not.
 */
import { copyFrameImage } from '../../agent/lib/frame-image.js';
import { silentLogger } from '../../agent/lib/log.js';
import { BaseCamera } from '../../drivers/camera/base-camera.js';
import type { Frame, FrameImage } from '../../drivers/camera/types.js';

export interface FakeCameraOptions {
  /** Produce `fps` frames a second on its own once started, cycling through `images` (JPEG bytes or frames). */
  live?: { fps: number; images: (Buffer | FrameImage)[] };
  /**
   * Give each frame memory of its own and wipe it (all zeros) when the frame is released, as the rpicam
   * and ffmpeg drivers refill a released frame's memory with a later frame: a consumer that reads a frame
   * after releasing it sees the damage.
   */
  reuseMemory?: boolean;
}

/** JPEG bytes are a JPEG frame; a frame is taken as it is. */
const asFrameImage = (image: Buffer | FrameImage): FrameImage => (Buffer.isBuffer(image) ? { format: 'jpeg', data: image } : image);

interface TakenWaiter {
  seq: number;
  resolve: () => void;
}

export class FakeCamera extends BaseCamera {
  private timer: NodeJS.Timeout | null = null;
  private readonly waiters: TakenWaiter[] = [];
  /** Frames released so far (by the reader, or replaced unread). */
  released = 0;

  constructor(private readonly options: FakeCameraOptions = {}) {
    super('fake', silentLogger());
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /**
   * Produces one frame now and resolves once the reader has taken it (or a newer frame replaced it, or
   * the camera stopped), so a test can hand a pipeline frames one by one without any dropped. Rejects
   * when nobody reads it within `timeoutMs`.
   */
  show(image: Buffer | FrameImage, timeoutMs = 10_000): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const seq = this.stats().frames + 1;
    const taken = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`frame ${seq} of the fake camera was not read within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ seq, resolve: () => (clearTimeout(timer), resolve()) });
    });
    this.produce(image);
    return taken;
  }

  /** The stream ends on its own (a replay at its last image, a capture process gone for good). */
  end(): void {
    this.finish();
  }

  override [Symbol.asyncIterator](): AsyncIterator<Frame, undefined> {
    const frames = super[Symbol.asyncIterator]();
    return {
      next: async () => {
        const result = await frames.next();
        if (!result.done) this.wakeWaiters(result.value.seq);
        return result;
      },
      return: () => frames.return!(),
    };
  }

  protected open(): Promise<void> {
    const live = this.options.live;
    if (live) {
      let next = 0;
      this.timer = setInterval(() => this.produce(live.images[next++ % live.images.length]!), 1000 / live.fps);
    }
    return Promise.resolve();
  }

  protected close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.wakeWaiters(Infinity);
    return Promise.resolve();
  }

  private produce(image: Buffer | FrameImage): void {
    if (!this.options.reuseMemory) {
      this.emit(asFrameImage(image), () => this.released++);
      return;
    }
    const own = copyFrameImage(asFrameImage(image));
    this.emit(own, () => {
      own.data.fill(0);
      this.released++;
    });
  }

  /** Frames up to `seq` are gone from the mailbox: taken, or replaced by a newer one. */
  private wakeWaiters(seq: number): void {
    while (this.waiters.length > 0 && this.waiters[0]!.seq <= seq) this.waiters.shift()!.resolve();
  }
}
