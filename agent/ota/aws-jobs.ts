/**
 * Model updates as AWS IoT Jobs (device side of the Jobs MQTT API, when the AWS profile is on):
 *
 *   $aws/things/<thing>/jobs/notify-next        the service: the next pending execution changed
 *   $aws/things/<thing>/jobs/start-next         we: take the next one (QUEUED -> IN_PROGRESS, or the one
 *                                               already IN_PROGRESS), answered on /accepted or /rejected
 *   $aws/things/<thing>/jobs/<jobId>/update     we: IN_PROGRESS with progress, then SUCCEEDED or FAILED,
 *                                               `statusDetails` naming role, version and the reason
 *
 * A job interrupted by a reboot comes back from start-next still IN_PROGRESS with the statusDetails we
 * wrote (StartNextPendingJobExecution leaves them unchanged), `attempt` among them: it is resumed (the
 * update is idempotent: installed bytes are not downloaded again, an already active version succeeds at
 * once) until `maxAttempts`, then failed with code `interrupted`.
 */
import { randomUUID } from 'node:crypto';
import type { EventBus } from '../runtime/event-bus.js';
import type { Logger } from '../lib/log.js';
import { truncate } from '../lib/quote.js';
import { isModelRole, type ActiveModel, type ModelRegistry } from './registry.js';
import { OtaError, toOtaError } from './errors.js';
import { ProgressGate, percentOf } from './messages.js';
import type { OtaMqtt } from './mqtt-commands.js';
import { parseJobDocument, parseJsonObject, type OtaOperation } from './requests.js';
import type { ModelUpdater, UpdateProgress } from './updater.js';
import { normalizeSha256 } from './verify.js';

/** AWS IoT Jobs refuses larger job documents; anything bigger did not come from it. */
export const MAX_JOB_DOCUMENT_BYTES = 32 * 1024;
const JOB_ID = /^[a-zA-Z0-9_-]{1,64}$/;
/** statusDetails values: 1..1024 characters, no control characters. */
const STATUS_VALUE_MAX = 1024;
/** Role and version as a job names them, cut for logs and statusDetails (a document may hold 32 KB of them). */
const NAME_MAX = 128;

export interface JobExecution {
  jobId: string;
  status?: string;
  statusDetails?: Record<string, string>;
  jobDocument?: unknown;
  versionNumber?: number;
  executionNumber?: number;
}

type JobStatus = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';

export interface AwsJobsDeps {
  thingName: string;
  mqtt: OtaMqtt;
  /** Its `mqtt.connection` events trigger start-next on every (re)connect. */
  bus: EventBus;
  updater: ModelUpdater;
  registry: ModelRegistry;
  logger: Logger;
  onActivated: (active: ActiveModel) => void;
  /** Runs of one job (the first included) before a job interrupted by reboots is failed; default 2. */
  maxAttempts?: number;
}

export function jobsTopic(thingName: string, suffix: string): string {
  return `$aws/things/${thingName}/jobs/${suffix}`;
}

export class AwsJobs {
  private unsubscribers: (() => void)[] = [];
  private running = false;
  private busy = false;
  /** clientToken of the start-next request we wait an answer for. */
  private pendingToken: string | null = null;
  private readonly log: Logger;

  constructor(private readonly deps: AwsJobsDeps) {
    this.log = deps.logger.child({ module: 'aws-jobs', thing: deps.thingName });
  }

  start(): void {
    this.running = true;
    const on = (suffix: string, handler: (payload: Buffer, topic: string) => void | Promise<void>) =>
      this.deps.mqtt.subscribe(jobsTopic(this.deps.thingName, suffix), (topic, payload) => handler(payload, topic));
    this.unsubscribers = [
      on('notify-next', (payload) => this.onNotifyNext(payload)),
      on('start-next/accepted', (payload) => this.onStartNextAccepted(payload)),
      on('start-next/rejected', (payload) => this.onRejected('start-next', payload)),
      on('+/update/rejected', (payload, topic) => this.onRejected(topic.split('/')[4] ?? 'update', payload)),
    ];
    // The relay emits the event before it sends the subscriptions again: ask once they are on the wire.
    this.deps.bus.on('mqtt.connection', this, ({ connected }) => connected && setImmediate(() => this.requestNext()));
    this.requestNext();
  }

  stop(): void {
    this.running = false;
    this.deps.bus.removeListeners(this);
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.unsubscribers = [];
  }

  /** start-next; while a job runs, the next one is asked for when it ends. */
  private requestNext(): void {
    if (!this.running || this.busy) return;
    const clientToken = randomUUID();
    this.pendingToken = clientToken;
    this.deps.mqtt
      .publishDirect(jobsTopic(this.deps.thingName, 'start-next'), JSON.stringify({ clientToken }), { qos: 1 })
      .catch((err: unknown) => this.log.debug({ err }, 'start-next not sent; asking again on the next connection'));
  }

  private onNotifyNext(payload: Buffer): void {
    const message = safeParse(payload);
    if (message?.['execution']) this.requestNext();
  }

  private onStartNextAccepted(payload: Buffer): void {
    const message = safeParse(payload);
    if (!message || message['clientToken'] !== this.pendingToken || this.busy) return; // an answer to someone else, or stale
    this.pendingToken = null;
    const execution = message['execution'] as JobExecution | undefined;
    if (!execution) return; // nothing pending
    this.busy = true;
    void this.run(execution).finally(() => {
      this.busy = false;
      this.requestNext();
    });
  }

  private onRejected(what: string, payload: Buffer): void {
    const message = safeParse(payload);
    const reason = truncate(String(message?.['message'] ?? 'no reason given'), STATUS_VALUE_MAX);
    const code = typeof message?.['code'] === 'string' ? truncate(message['code'], NAME_MAX) : undefined;
    const request = truncate(what, NAME_MAX);
    this.log.warn({ code, what: request }, `AWS IoT Jobs rejected ${request}: ${reason}`);
  }

  private async run(execution: JobExecution): Promise<void> {
    const jobId = execution.jobId;
    if (typeof jobId !== 'string' || !JOB_ID.test(jobId)) {
      this.log.warn({ jobId }, 'ignoring a job execution with an invalid jobId');
      return;
    }
    const attempt = Number(execution.statusDetails?.['attempt'] ?? 0) + 1;
    const subject: Record<string, string> = { attempt: String(attempt) };
    try {
      const operation = readOperation(execution);
      Object.assign(subject, describe(operation));
      const maxAttempts = this.deps.maxAttempts ?? 2;
      if (attempt > maxAttempts) throw new OtaError('interrupted', `interrupted ${attempt - 1} times by a restart before it could finish`);
      const done = attempt > 1 && operation.operation === 'model-update' ? await this.alreadyActive(operation) : null;
      if (done) {
        this.log.info({ jobId, ...subject }, 'resumed job: the version is already active');
        await this.report(jobId, 'SUCCEEDED', { ...subject, ...activeDetails(done), reason: 'already active (resumed after a restart)' });
        return;
      }
      await this.report(jobId, 'IN_PROGRESS', { ...subject, stage: 'started' });
      const gate = new ProgressGate(25);
      const onProgress = (p: UpdateProgress) => {
        if (gate.shouldReport(p)) void this.report(jobId, 'IN_PROGRESS', { ...subject, ...progressDetails(p) });
      };
      const active =
        operation.operation === 'model-update'
          ? await this.deps.updater.update(operation.request, onProgress)
          : await this.deps.updater.rollback(operation.role, onProgress);
      this.deps.onActivated(active);
      await this.report(jobId, 'SUCCEEDED', { ...subject, ...activeDetails(active) });
    } catch (err) {
      const error = toOtaError(err, 'install_failed');
      if (error.code === 'cancelled' && !this.running) {
        // The agent is stopping (a restart, an upgrade): the job stays IN_PROGRESS and resumes after it.
        this.log.info({ jobId, ...subject }, `job ${jobId} interrupted by the agent stopping; it resumes at the next start`);
        return;
      }
      this.log.warn({ jobId, code: error.code, ...subject }, `job ${jobId} failed: ${truncate(error.message, STATUS_VALUE_MAX)}`);
      await this.report(jobId, 'FAILED', { ...subject, code: error.code, reason: error.message });
    }
  }

  private async alreadyActive(operation: Extract<OtaOperation, { operation: 'model-update' }>): Promise<ActiveModel | null> {
    const { role, version, sha256 } = operation.request;
    if (!isModelRole(role)) return null;
    const active = await this.deps.registry.active(role);
    const wanted = safeSha(sha256);
    return active && active.manifest.version === version && active.manifest.sha256 === wanted ? active : null;
  }

  private async report(jobId: string, status: JobStatus, details: Record<string, string>): Promise<void> {
    const body = { status, statusDetails: statusDetails(details), clientToken: randomUUID() };
    await this.deps.mqtt
      .publishDirect(jobsTopic(this.deps.thingName, `${jobId}/update`), JSON.stringify(body), { qos: 1 })
      .catch((err: unknown) => this.log.warn({ err, jobId, status }, `could not report ${status} for job ${jobId}; it resumes on the next start-next`));
  }
}

/** The job's operation; throws OtaError('invalid_request') for an oversized or malformed document. */
function readOperation(execution: JobExecution): OtaOperation {
  const document = execution.jobDocument;
  const text = typeof document === 'string' ? document : JSON.stringify(document ?? null);
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_JOB_DOCUMENT_BYTES) {
    throw new OtaError('invalid_request', `job document is ${bytes} bytes, over the ${MAX_JOB_DOCUMENT_BYTES}-byte AWS IoT Jobs limit`);
  }
  return parseJobDocument(parseJsonObject(text, 'job document'));
}

function describe(operation: OtaOperation): Record<string, string> {
  if (operation.operation === 'model-rollback') return { operation: operation.operation, role: truncate(operation.role, NAME_MAX) };
  return { operation: operation.operation, role: truncate(operation.request.role, NAME_MAX), version: truncate(operation.request.version, NAME_MAX) };
}

function activeDetails(active: ActiveModel): Record<string, string> {
  return { role: active.role, version: active.manifest.version, name: active.manifest.name, sha256: active.manifest.sha256 };
}

function progressDetails(progress: UpdateProgress): Record<string, string> {
  const percent = progress.download ? percentOf(progress.download) : null;
  return percent === null ? { stage: progress.stage } : { stage: progress.stage, progress: `${percent}%` };
}

/** AWS accepts only non-empty values without control characters, up to 1024 characters. */
function statusDetails(details: Record<string, string>): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const [key, value] of Object.entries(details)) {
    const text = value.replace(/\p{C}+/gu, ' ').trim().slice(0, STATUS_VALUE_MAX);
    if (text !== '') clean[key] = text;
  }
  return clean;
}

function safeSha(value: string): string | null {
  try {
    return normalizeSha256(value);
  } catch {
    return null;
  }
}

function safeParse(payload: Buffer): Record<string, unknown> | null {
  try {
    return parseJsonObject(payload, 'jobs message');
  } catch {
    return null;
  }
}
