/**
 * What OTA publishes: the replies on `<base>/cmd/model-update/response` (and model-rollback), shaped like
 * zigbee2mqtt's bridge responses (`status`, `error`, echoed `transaction`) and always naming the role and
 * version they are about, and the retained `<base>/models/<role>` info of the active model.
 */
import { isoTs, type MessageIds } from '../mqtt/messages.js';
import { modelInfoSchema } from '../mqtt/contract/model-info-schema.js';
import type { ModelInfoPayload } from '../mqtt/contract/topics.js';
import type { ActiveModel, ModelRole } from './registry.js';
import type { ModelInfo } from '../../models/types.js';
import type { OtaErrorCode } from './errors.js';
import type { FetchProgress } from './fetch.js';
import type { UpdateProgress, UpdateStage } from './updater.js';

export type ModelCommand = 'model-update' | 'model-rollback';

export interface ModelCommandResponsePayload {
  id: string;
  ts: string;
  command: ModelCommand;
  status: 'in_progress' | 'ok' | 'error';
  /** null only when the command was too broken to name them. */
  role: string | null;
  version: string | null;
  stage?: UpdateStage;
  /** Download progress (stage 'downloading'); percent is null when the server announced no length. */
  progress?: { percent: number | null; received_bytes: number; total_bytes: number | null };
  /** With status 'ok': the model now active. */
  model?: ModelInfoPayload;
  /** With status 'error': why, in words, and as a stable code. */
  error?: string;
  error_code?: OtaErrorCode;
  transaction?: string | number;
}

export type ResponseFields = Omit<ModelCommandResponsePayload, 'id' | 'ts' | 'command'>;

const nullableString = { type: ['string', 'null'] } as const;

/** JSON Schema of the replies on `<base>/cmd/model-update/response` and `<base>/cmd/model-rollback/response`. */
export const modelCommandResponseSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid', description: 'Unique message id.' },
    ts: { type: 'string', format: 'date-time' },
    command: { enum: ['model-update', 'model-rollback'] },
    status: { enum: ['in_progress', 'ok', 'error'] },
    role: { ...nullableString, description: 'The role the reply is about; null only for a command too broken to name it.' },
    version: { ...nullableString, description: 'The version the reply is about (for a rollback, the version it goes back to).' },
    stage: { enum: ['downloading', 'verifying', 'installing', 'validating', 'activating'] },
    progress: {
      type: 'object',
      properties: {
        percent: { type: ['integer', 'null'], minimum: 0, maximum: 100 },
        received_bytes: { type: 'integer', minimum: 0 },
        total_bytes: { type: ['integer', 'null'], minimum: 0 },
      },
      required: ['percent', 'received_bytes', 'total_bytes'],
      additionalProperties: false,
    },
    model: { ...modelInfoSchema, description: 'With status ok: the model now active, as on `<base>/models/<role>`.' },
    error: { type: 'string', minLength: 1, description: 'With status error: why.' },
    error_code: { type: 'string', minLength: 1 },
    transaction: { type: ['string', 'number'], description: "The command's `transaction`, echoed." },
  },
  required: ['id', 'ts', 'command', 'status', 'role', 'version'],
  additionalProperties: false,
} as const;

export function commandResponse(ids: MessageIds, command: ModelCommand, fields: ResponseFields, nowMs: number = Date.now()): ModelCommandResponsePayload {
  const { transaction, ...rest } = fields;
  return { id: ids.next(nowMs), ts: isoTs(nowMs), command, ...rest, ...(transaction !== undefined ? { transaction } : {}) };
}

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

export function progressFields(progress: UpdateProgress): Pick<ResponseFields, 'stage' | 'progress'> {
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
