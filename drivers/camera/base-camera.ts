import type { Logger } from 'pino';
import { CameraStatsTracker } from './camera-stats.js';
import { systemClock, type Clock } from '../../agent/lib/timing.js';
import { LatestFrameMailbox } from './latest-frame.js';
import type { Camera, CameraStats, Frame, FrameImage } from './types.js';

/**
 * What every driver shares: the start/stop lifecycle, frame numbering and stamping, latest-frame-wins
 * delivery to the one consumer, and stats. A driver implements `open()` (begin producing, calling
 * `emit()` per frame) and `close()` (release everything); this class guarantees `close()` never overlaps
 * `open()`, runs at most once, and that no frame is delivered after `stop()`.
 *
 * A camera is single-use: once stopped it cannot start again (the daemon makes a new one to retry).
 */
export abstract class BaseCamera implements Camera {
  protected readonly clock: Clock;
  protected readonly tracker: CameraStatsTracker;
  // A frame replaced unread was never seen by the consumer: its memory goes straight back to the driver.
  private readonly mailbox = new LatestFrameMailbox<Frame>((frame) => frame.release());
  private seq = 0;
  private opening: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;

  constructor(
    readonly name: string,
    protected readonly logger: Logger,
    clock: Clock = systemClock,
  ) {
    this.clock = clock;
    this.tracker = new CameraStatsTracker(clock);
  }

  start(): Promise<void> {
    if (this.stopping) return Promise.reject(new Error(`camera ${this.name} was stopped; create a new one to capture again`));
    this.opening ??= this.open().catch(async (err: unknown) => {
      // A failed start leaves nothing behind by the time it rejects. (If stop() came meanwhile, it closes
      // once this settles; waiting for it here would wait for ourselves.)
      this.mailbox.close();
      if (!this.stopping) {
        this.stopping = this.close().catch(() => undefined);
        await this.stopping;
      }
      throw err;
    });
    return this.opening;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.mailbox.close();
      if (!this.opening) return;
      await this.opening.catch(() => undefined);
      await this.close();
    })();
    return this.stopping;
  }

  stats(): CameraStats {
    return this.tracker.snapshot(this.mailbox.dropped);
  }

  [Symbol.asyncIterator](): AsyncIterator<Frame, undefined> {
    return {
      next: () => this.mailbox.next(),
      // Leaving a for-await loop does not stop the camera: only stop() does.
      return: () => Promise.resolve({ value: undefined, done: true }),
    };
  }

  protected get stopped(): boolean {
    return this.stopping !== null;
  }

  /**
   * Hands one complete frame to the consumer (replacing an unread one). `recycle`: called once when the
   * consumer (or the mailbox, for a frame replaced unread) releases the frame.
   */
  protected emit(image: FrameImage, recycle?: () => void): void {
    if (this.stopping) {
      recycle?.();
      return;
    }
    this.seq++;
    this.tracker.recordFrame();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      recycle?.();
    };
    this.mailbox.offer({ image, seq: this.seq, ts: this.clock.now(), release });
  }

  /** The source has no more frames (a replay without loop): iteration ends after the last one. */
  protected finish(): void {
    this.mailbox.end();
  }

  protected abstract open(): Promise<void>;
  protected abstract close(): Promise<void>;
}
