import type { Logger } from 'pino';
import { BaseCamera } from './base-camera.js';
import type { Clock } from '../../agent/lib/timing.js';
import { JpegStreamSplitter } from './jpeg-splitter.js';
import { ProcessSupervisor, type ProcessSpec, type SupervisorTiming } from './process-supervisor.js';

export interface StreamCameraDeps {
  logger: Logger;
  clock?: Clock;
  /** Environment of the capture process (its PATH finds the program). */
  env: NodeJS.ProcessEnv;
  timing: SupervisorTiming;
}

/**
 * A camera fed by one long-lived process writing MJPEG to stdout (rpicam-vid, ffmpeg): the process is
 * supervised (watchdog, backoff restarts, clean stop), its byte stream split into JPEG frames.
 */
export class StreamCamera extends BaseCamera {
  private readonly splitter = new JpegStreamSplitter();
  private readonly supervisor: ProcessSupervisor;
  private brokenFramesLogged = 0;

  constructor(name: string, spec: () => ProcessSpec, deps: StreamCameraDeps) {
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
    for (const jpeg of this.splitter.push(chunk)) {
      this.supervisor.alive();
      this.emit(jpeg);
    }
    if (this.splitter.brokenFrames > this.brokenFramesLogged) {
      this.brokenFramesLogged = this.splitter.brokenFrames;
      this.logger.debug({ camera: this.name, broken_frames: this.brokenFramesLogged }, 'discarded an incomplete or corrupt JPEG frame');
    }
  }
}
