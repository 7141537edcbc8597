/**
 * A one-line progress display for `edge-agent models install` on a terminal: the stage, and during the
 * download a bar, the percentage and the bytes. Redrawn in place at most every 100 ms.
 */
import { formatBytes } from './fetch.js';
import { percentOf } from './messages.js';
import type { UpdateProgress } from './updater.js';

const WIDTH = 30;
const REDRAW_MS = 100;

export interface TerminalStream {
  write(text: string): boolean;
}

export class ProgressBar {
  private lastDraw = 0;
  private lastStage: string | null = null;
  private drawn = false;

  constructor(
    private readonly out: TerminalStream,
    private readonly now: () => number = Date.now,
  ) {}

  update(progress: UpdateProgress): void {
    const stageChanged = progress.stage !== this.lastStage;
    const complete = progress.download !== undefined && progress.download.receivedBytes === progress.download.totalBytes;
    if (!stageChanged && !complete && this.now() - this.lastDraw < REDRAW_MS) return;
    this.lastStage = progress.stage;
    this.lastDraw = this.now();
    this.drawn = true;
    this.out.write(`\r\x1b[2K${render(progress)}`);
  }

  /** Ends the line so what follows starts on a fresh one; safe to call more than once. */
  finish(): void {
    if (!this.drawn) return;
    this.drawn = false;
    this.out.write('\n');
  }
}

export function render(progress: UpdateProgress): string {
  const { stage, download } = progress;
  if (!download) return `${stage}...`;
  const percent = percentOf(download);
  const received = formatBytes(download.receivedBytes);
  if (percent === null) return `${stage} ${received}`;
  const filled = Math.round((percent / 100) * WIDTH);
  return `${stage} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${String(percent).padStart(3)}% ${received} / ${formatBytes(download.totalBytes ?? 0)}`;
}
