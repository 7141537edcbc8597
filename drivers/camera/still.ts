/**
 * Still mode for low-power boards (Pi Zero, Pi 3): instead of a camera pipeline running all the time, one
 * still every `still_interval_s`, each taken by a short-lived libcamera-still / rpicam-still into a
 * private temporary folder and read back.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { CameraOptions } from './types.js';
import { Backoff, type BackoffTiming } from '../../agent/lib/backoff.js';
import { BaseCamera } from './base-camera.js';
import { abortableSleep, type Clock } from '../../agent/lib/timing.js';
import { isCompleteJpeg } from './jpeg-splitter.js';
import { chooseStillCapturer, stillOptions, type StillCapturer } from './still-capture.js';

export interface StillCameraDeps {
  logger: Logger;
  clock?: Clock;
  backoff: BackoffTiming;
  killTimeoutMs: number;
}

export class StillCamera extends BaseCamera {
  private workDir: string | null = null;
  private stills = 0;
  private capturer: StillCapturer | null = null;
  private loop: Promise<void> | null = null;
  private readonly aborter = new AbortController();
  private readonly backoff: Backoff;

  constructor(
    private readonly config: CameraOptions,
    private readonly deps: StillCameraDeps,
  ) {
    super('still', deps.logger, deps.clock);
    this.backoff = new Backoff(deps.backoff);
  }

  protected async open(): Promise<void> {
    // Private (mode 0700) and unpredictable: nobody else can swap the file between capture and read.
    this.workDir = await mkdtemp(join(tmpdir(), 'edge-agent-still-'));
    const capturer = chooseStillCapturer(this.workDir, this.deps.killTimeoutMs);
    this.capturer = capturer;
    this.logger.info({ camera: this.name, program: capturer.program, interval_s: this.config.still_interval_s }, 'still capture started');
    this.loop = this.run(capturer);
  }

  protected async close(): Promise<void> {
    this.aborter.abort();
    await this.loop;
    // A libcamera-still started through node-libcamera cannot be killed: let it finish, as long as a
    // capture may take, so the camera is free and no process outlives stop().
    await this.capturer?.drain(this.config.stall_timeout_s * 1000);
    if (this.workDir) await rm(this.workDir, { recursive: true, force: true });
  }

  private async run(capturer: StillCapturer): Promise<void> {
    const intervalMs = this.config.still_interval_s * 1000;
    let failed = false;
    while (!this.stopped) {
      const startedAt = this.clock.monotonic();
      let waitMs: number;
      try {
        if (failed) this.tracker.recordRestart();
        this.emit({ format: 'jpeg', data: await this.takeStill(capturer) });
        this.backoff.reset();
        failed = false;
        waitMs = intervalMs - (this.clock.monotonic() - startedAt);
      } catch (err) {
        if (this.stopped) break;
        const reason = (err as Error).message.replace(/\s*\n\s*/g, ' | ');
        failed = true;
        waitMs = Math.max(intervalMs, this.backoff.nextDelayMs());
        this.tracker.recordError(reason);
        this.logger.warn({ camera: this.name, reason, retry_in_ms: waitMs }, `still capture failed: ${reason}`);
      }
      await abortableSleep(waitMs, this.aborter.signal);
    }
  }

  private async takeStill(capturer: StillCapturer): Promise<Buffer> {
    const output = join(this.workDir!, `still-${++this.stills}.jpg`);
    try {
      await capturer.capture(stillOptions(this.config, output), this.config.stall_timeout_s * 1000, this.aborter.signal);
      const jpeg = await readFile(output);
      if (!isCompleteJpeg(jpeg)) throw new Error(`${capturer.program} wrote ${jpeg.length} bytes that are not a complete JPEG`);
      return jpeg;
    } finally {
      await rm(output, { force: true });
    }
  }
}
