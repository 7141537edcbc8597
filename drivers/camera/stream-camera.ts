import type { Logger } from 'pino';
import { BaseCamera } from './base-camera.js';
import type { Clock } from '../../agent/lib/timing.js';
import { JpegStreamSplitter } from './jpeg-splitter.js';
import { ProcessSupervisor, type ProcessSpec, type SupervisorTiming } from './process-supervisor.js';
import type { CameraFormat, FrameImage } from './types.js';
import { Yuv420StreamSplitter } from './yuv420-splitter.js';

/** Cuts a capture process's stdout into frames, whatever the chunk boundaries. */
export interface FrameSplitter {
  push(chunk: Buffer): FrameImage[];
  /** Forgets any partial frame (the process restarted). */
  reset(): void;
  /** Frames abandoned so far (incomplete or corrupt). */
  readonly brokenFrames: number;
}

/**
 * The splitter for a stream of `format` frames of `width` x `height`; `yAlign` is the row padding of
 * the writer's yuv420 Y rows (rpicam-vid: 64 bytes; ffmpeg: none).
 */
export function frameSplitter(format: CameraFormat, width: number, height: number, yAlign: number): FrameSplitter {
  if (format === 'yuv420') return new Yuv420StreamSplitter(width, height, yAlign);
  const jpeg = new JpegStreamSplitter();
  return {
    push: (chunk) => jpeg.push(chunk).map((data) => ({ format: 'jpeg', data })),
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
      events: {
        spawned: () => this.splitter.reset(),
        stdout: (chunk) => this.onBytes(chunk),
        failed: (reason) => this.tracker.recordError(reason),
        restarted: () => this.tracker.recordRestart(),
      },
    });
  }

  protected async open(): Promise<void> {
    this.supervisor.start();
  }

  protected close(): Promise<void> {
    return this.supervisor.stop();
  }

  private onBytes(chunk: Buffer): void {
    for (const image of this.splitter.push(chunk)) {
      this.supervisor.alive();
      this.emit(image);
    }
    if (this.splitter.brokenFrames > this.brokenFramesLogged) {
      this.brokenFramesLogged = this.splitter.brokenFrames;
      this.logger.debug({ camera: this.name, broken_frames: this.brokenFramesLogged }, 'discarded an incomplete or corrupt frame');
    }
  }
}
