/**
 * Directory replay: the images of a folder, in file-name order, at `fps`, optionally looping. JPEG files
 * are delivered byte for byte; PNG files are encoded to JPEG first. For demos, tests and trying the
 * detector on recorded footage.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { CameraOptions } from './types.js';
import { BaseCamera } from './base-camera.js';
import type { Clock } from '../../agent/lib/timing.js';
import { CameraConfigError, CameraInputError } from './errors.js';
import { isCompleteJpeg } from './jpeg-splitter.js';

const JPEG_FILE = /\.jpe?g$/i;
const PNG_FILE = /\.png$/i;

export interface DirCameraDeps {
  logger: Logger;
  clock?: Clock;
}

export class DirCamera extends BaseCamera {
  private files: string[] = [];
  private next = 0;
  private timer: NodeJS.Timeout | null = null;
  private dueAt = 0;
  /** Files already reported as unusable: a looping replay warns about each once, not every lap. */
  private readonly reported = new Set<string>();

  constructor(
    private readonly config: CameraOptions,
    deps: DirCameraDeps,
  ) {
    super('dir', deps.logger, deps.clock);
  }

  protected async open(): Promise<void> {
    const dir = this.config.dir;
    if (typeof dir !== 'string' || dir === '') {
      throw new CameraConfigError('camera.dir is required by the dir driver: a folder of .jpg, .jpeg or .png images');
    }
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      throw new CameraInputError(`camera.dir ${dir} cannot be read: ${(err as Error).message}`);
    }
    this.files = names
      .filter((name) => JPEG_FILE.test(name) || PNG_FILE.test(name))
      .sort()
      .map((name) => join(dir, name));
    if (this.files.length === 0) throw new CameraInputError(`camera.dir ${dir} holds no .jpg, .jpeg or .png images`);
    this.dueAt = this.clock.monotonic();
    if (!this.stopped) this.schedule(0);
  }

  protected close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return Promise.resolve();
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => void this.tick(), Math.max(0, delayMs));
  }

  private async tick(): Promise<void> {
    this.timer = null;
    const file = this.files[this.next]!;
    const jpeg = await this.load(file);
    if (this.stopped) return;
    if (jpeg) this.emit({ format: 'jpeg', data: jpeg });
    this.next++;
    if (this.next === this.files.length) {
      if (!this.config.loop) {
        this.finish();
        return;
      }
      this.next = 0;
    }
    // Keep to the frame rate on average, but never try to catch up a backlog after a slow read.
    const now = this.clock.monotonic();
    this.dueAt = Math.max(this.dueAt + 1000 / this.config.fps, now);
    this.schedule(this.dueAt - now);
  }

  /** The file as JPEG bytes, or null (reported once) when it cannot be used. */
  private async load(file: string): Promise<Buffer | null> {
    try {
      const data = await readFile(file);
      if (PNG_FILE.test(file)) {
        // Imported here, not at the top: the configuration imports this driver's index for its limits,
        // and every command that reads a configuration would otherwise load sharp's native library.
        const { default: sharp } = await import('sharp');
        return await sharp(data).jpeg({ quality: 90 }).toBuffer();
      }
      if (!isCompleteJpeg(data)) throw new Error('not a complete JPEG image');
      return data;
    } catch (err) {
      const reason = `${file}: ${(err as Error).message}`;
      this.tracker.recordError(reason);
      if (!this.reported.has(file)) {
        this.reported.add(file);
        this.logger.warn({ camera: this.name, file, reason }, `skipping an unusable replay image: ${reason}`);
      }
      return null;
    }
  }
}
