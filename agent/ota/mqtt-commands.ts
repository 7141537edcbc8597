/**
 * `<base>/cmd/model-update` `{ role, version, url, sha256, signature?, transaction? }` and
 * `<base>/cmd/model-rollback` `{ role, transaction? }`. Progress goes straight to the broker (QoS 0: a
 * lost percentage does not matter); the final reply goes through the outbox, so it reaches the sender even
 * if the broker drops while the model is being validated.
 */
import type { OutboxMessage } from '../store/types.js';
import type { Logger } from '../lib/log.js';
import type { MessageIds } from '../mqtt/messages.js';
import { Topic } from '../mqtt/contract/topics.js';
import { isModelRole, type ActiveModel, type ModelRegistry } from './registry.js';
import { toOtaError } from './errors.js';
import { commandResponse, modelInfoPayload, progressFields, ProgressGate, type ModelCommand, type ResponseFields } from './messages.js';
import { parseJsonObject, parseRollbackRequest, parseUpdateRequest, transactionOf } from './requests.js';
import type { ModelUpdater, ProgressListener } from './updater.js';

/** The part of the MQTT relay (agent/mqtt/relay.ts) that OTA uses. */
export interface OtaMqtt {
  readonly baseTopic: string;
  subscribe(topicFilter: string, handler: (topic: string, payload: Buffer) => void | Promise<void>): () => void;
  publishDirect(topic: string, payload: string | Buffer, options?: { qos?: 0 | 1; retain?: boolean }): Promise<void>;
}

/** The part of the store OTA uses: replies and retained model info that must survive a broker outage. */
export interface OtaOutbox {
  enqueue(messages: OutboxMessage[]): boolean;
}

export interface ModelCommandsDeps {
  updater: ModelUpdater;
  registry: ModelRegistry;
  mqtt: OtaMqtt;
  outbox: OtaOutbox;
  ids: MessageIds;
  logger: Logger;
  /** Called after every activation, to publish the retained model info. */
  onActivated: (active: ActiveModel) => void;
}

/** Download progress is published every this many percent. */
const PROGRESS_STEP_PERCENT = 10;

type Subject = { role: string | null; version: string | null; transaction?: string | number };

export class ModelCommands {
  private unsubscribers: (() => void)[] = [];

  constructor(private readonly deps: ModelCommandsDeps) {}

  start(): void {
    const base = this.deps.mqtt.baseTopic;
    this.unsubscribers = [
      this.deps.mqtt.subscribe(`${base}/${Topic.command('model-update')}`, (_topic, payload) => this.onUpdate(payload)),
      this.deps.mqtt.subscribe(`${base}/${Topic.command('model-rollback')}`, (_topic, payload) => this.onRollback(payload)),
    ];
  }

  stop(): void {
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.unsubscribers = [];
  }

  private onUpdate(payload: Buffer): Promise<void> {
    return this.handle('model-update', payload, (body, _subject, onProgress) => this.deps.updater.update(parseUpdateRequest(body), onProgress));
  }

  private onRollback(payload: Buffer): Promise<void> {
    return this.handle('model-rollback', payload, async (body, subject, onProgress) => {
      const role = parseRollbackRequest(body);
      // Name the version it goes back to in every reply, failures included, when there is one.
      if (isModelRole(role)) {
        subject.version = await this.deps.registry.rollbackTarget(role).then((t) => t.installed.manifest.version, () => null);
      }
      return this.deps.updater.rollback(role, onProgress);
    });
  }

  /** Parses, runs and replies; never throws (a bad command must not reach the relay as an error). */
  private async handle(
    command: ModelCommand,
    payload: Buffer,
    run: (body: Record<string, unknown>, subject: Subject, onProgress: ProgressListener) => Promise<ActiveModel>,
  ): Promise<void> {
    const subject: Subject = { role: null, version: null };
    try {
      const body = parseJsonObject(payload, `${command} command`);
      subject.role = typeof body['role'] === 'string' ? body['role'] : null;
      subject.version = typeof body['version'] === 'string' ? body['version'] : null;
      subject.transaction = transactionOf(body);
      const gate = new ProgressGate(PROGRESS_STEP_PERCENT);
      const active = await run(body, subject, (progress) => {
        if (gate.shouldReport(progress)) this.progress(command, { ...subject, status: 'in_progress', ...progressFields(progress) });
      });
      this.deps.onActivated(active);
      this.reply(command, { ...subject, version: active.manifest.version, status: 'ok', model: modelInfoPayload(active) });
    } catch (err) {
      const error = toOtaError(err, 'install_failed');
      this.deps.logger.warn({ command, ...subject, code: error.code }, `${command} refused: ${error.message}`);
      this.reply(command, { ...subject, status: 'error', error: error.message, error_code: error.code });
    }
  }

  private progress(command: ModelCommand, fields: ResponseFields): void {
    const topic = `${this.deps.mqtt.baseTopic}/${Topic.commandResponse(command)}`;
    this.deps.mqtt
      .publishDirect(topic, JSON.stringify(commandResponse(this.deps.ids, command, fields)), { qos: 0 })
      .catch((err: unknown) => this.deps.logger.debug({ err }, 'progress message not sent'));
  }

  private reply(command: ModelCommand, fields: ResponseFields): void {
    const topic = `${this.deps.mqtt.baseTopic}/${Topic.commandResponse(command)}`;
    if (!this.deps.outbox.enqueue([{ topic, payload: JSON.stringify(commandResponse(this.deps.ids, command, fields)) }])) {
      this.deps.logger.error({ command }, 'could not queue the command reply');
    }
  }
}
