/**
 * What OTA publishes besides the command replies (agent/mqtt/remote-commands.ts sends those): the
 * retained `<base>/models/<role>` info of the active model, and the progress of an update.
 */
import { isoTs } from '../mqtt/messages.js';
import type { ModelInfoPayload } from '../mqtt/contract/topics.js';
import type { ActiveModel, ModelRole } from './registry.js';
import type { ModelInfo } from '../../models/types.js';
import type { FetchProgress } from './fetch.js';
import type { UpdateProgress, UpdateStage } from './updater.js';

export function modelInfoPayload(active: ActiveModel): ModelInfoPayload {
  const { name, version, sha256 } = active.manifest;
  return { role: active.role, name, version, sha256, activated_at: active.activated_at };
}

/** Info of a model that does not come from the registry (a configured path, the shipped forecaster). */
export function unregisteredModelInfo(role: ModelRole, info: ModelInfo, sinceMs: number): ModelInfoPayload {
  return { role, name: info.name, version: info.version, sha256: info.sha256, activated_at: isoTs(sinceMs) };
}

export function percentOf(download: FetchProgress): number | null {
  return download.totalBytes ? Math.floor((100 * download.receivedBytes) / download.totalBytes) : null;
}

export interface ProgressFields {
  stage: UpdateStage;
  /** Download progress (stage 'downloading'); percent is null when the server announced no length. */
  progress?: { percent: number | null; received_bytes: number; total_bytes: number | null };
}

export function progressFields(progress: UpdateProgress): ProgressFields {
  const { stage, download } = progress;
  if (!download) return { stage };
  return { stage, progress: { percent: percentOf(download), received_bytes: download.receivedBytes, total_bytes: download.totalBytes } };
}

/**
 * Decides which progress events are worth a message: every new stage, and the download each time it
 * passes another `stepPercent` (or another `stepBytes` when the length is unknown). Progress arrives per
 * network chunk, hundreds of times for one model; subscribers want a handful of messages.
 */
export class ProgressGate {
  private stage: UpdateStage | null = null;
  private step = 0;

  constructor(
    private readonly stepPercent: number,
    private readonly stepBytes = 8 * 1024 * 1024,
  ) {}

  shouldReport(progress: UpdateProgress): boolean {
    if (progress.stage !== this.stage) {
      this.stage = progress.stage;
      this.step = 0;
      return true;
    }
    if (!progress.download) return false;
    const percent = percentOf(progress.download);
    const step = percent === null ? Math.floor(progress.download.receivedBytes / this.stepBytes) : Math.floor(percent / this.stepPercent);
    if (step <= this.step) return false;
    this.step = step;
    return true;
  }
}
