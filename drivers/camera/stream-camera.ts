import type { Logger } from 'pino';
import { BaseCamera } from './base-camera.js';
import type { Clock } from '../../agent/lib/timing.js';
import { JpegStreamSplitter } from './jpeg-splitter.js';
import { ProcessSupervisor, type ProcessSpec, type SupervisorTiming } from './process-supervisor.js';
import type { CameraFormat, FrameImage } from './types.js';
import { Yuv420StreamSplitter } from './yuv420-splitter.js';

/**
 * Cuts a capture process's stdout into frames, whatever the read boundaries. Reads land in the splitter's
 * own memory (`readBuffer`), so a raw frame is gathered where it will be handed on from.
 */
export interface FrameSplitter {
  /** Memory for the next read (at least one byte). */
  readBuffer(): Uint8Array;
  /** The last read wrote `bytes` bytes at the start of `readBuffer()`; returns the frames it completed. */
  received(bytes: number): FrameImage[];
  /** The consumer is done with a frame this splitter handed on: its memory may be reused. */
  recycle(image: FrameImage): void;
  /** Forgets any partial frame (the process restarted). */
  reset(): void;
  /** Frames abandoned so far (incomplete or corrupt). */
  readonly brokenFrames: number;
}

/** Bytes of one read of an MJPEG stream: a socket rarely queues more (its buffer is ~200 KB). */
const MJPEG_READ_BYTES = 256 * 1024;

/**
 * The splitter for a stream of `format` frames of `width` x `height`; `yAlign` is the row padding of
 * the writer's yuv420 Y rows (rpicam-vid: 64 bytes; ffmpeg: none).
 */
export function frameSplitter(format: CameraFormat, width: number, height: number, yAlign: number): FrameSplitter {
  if (format === 'yuv420') return new Yuv420StreamSplitter(width, height, yAlign);
  const jpeg = new JpegStreamSplitter();
  // Reads go to one scratch buffer: the JPEG splitter copies what it keeps, and each JPEG is its own copy.
  const scratch = Buffer.allocUnsafe(MJPEG_READ_BYTES);
  return {
    readBuffer: () => scratch,
    received: (bytes) => jpeg.push(scratch.subarray(0, bytes)).map((data) => ({ format: 'jpeg', data })),
    recycle: () => {},
    reset: () => jpeg.reset(),
    get brokenFrames() {
      return jpeg.brokenFrames;
    },
  };
}

export interface StreamCameraDeps {
  logger: Logger;
  clock?: Clock;
  /** Environment of the capture process (its PATH finds the program). */
  env: NodeJS.ProcessEnv;
  timing: SupervisorTiming;
}

/**
 * A camera fed by one long-lived process writing frames to stdout (rpicam-vid, ffmpeg; raw yuv420 or
 * MJPEG): the process is supervised (watchdog, backoff restarts, clean stop), its byte stream split into
 * frames.
 */
export class StreamCamera extends BaseCamera {
  private readonly supervisor: ProcessSupervisor;
  private brokenFramesLogged = 0;

  constructor(
    name: string,
    spec: () => ProcessSpec,
    private readonly splitter: FrameSplitter,
    deps: StreamCameraDeps,
  ) {
    super(name, deps.logger, deps.clock);
    this.supervisor = new ProcessSupervisor({
      name,
      spec,
      env: deps.env,
      timing: deps.timing,
      logger: deps.logger,
      stdout: { readBuffer: () => this.splitter.readBuffer(), received: (bytes) => this.onBytes(bytes) },
      events: {
        spawned: () => this.splitter.reset(),
        failed: (reason) => this.tracker.recordError(reason),
        restarted: () => this.tracker.recordRestart(),
      },
    });
  }

  protected open(): Promise<void> {
    return this.supervisor.start();
  }

  protected close(): Promise<void> {
    return this.supervisor.stop();
  }

  private onBytes(bytes: number): void {
    for (const image of this.splitter.received(bytes)) {
      this.supervisor.alive();
      this.emit(image, () => this.splitter.recycle(image));
    }
    if (this.splitter.brokenFrames > this.brokenFramesLogged) {
      this.brokenFramesLogged = this.splitter.brokenFrames;
      this.logger.debug({ camera: this.name, broken_frames: this.brokenFramesLogged }, 'discarded an incomplete or corrupt frame');
    }
  }
}
