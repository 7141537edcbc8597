/**
 * The model commands, answered through the remote-command router (agent/mqtt/remote-commands.ts):
 *
 *   `<base>/cmd/model-update`   `{ role, version, url, sha256, signature?, name?, transaction? }`
 *   `<base>/cmd/model-install`  `{ role, transaction? }`: installs the version announced on
 *                               `<base>/models/<role>/available` (Home Assistant's Install button)
 *   `<base>/cmd/model-rollback` `{ role, transaction? }`
 *
 * Every reply and progress message names the role and version it is about (a rollback: the version it
 * goes back to, when there is one), failures included; a refusal's `data.code` is the OtaErrorCode.
 */
import type { CommandHandler, CommandRequest, RemoteCommands } from '../mqtt/remote-commands.js';
import { CommandError, echo } from '../mqtt/remote-commands.js';
import type { MessageHandler } from '../mqtt/subscriptions.js';
import type { OutboxMessage } from '../store/types.js';
import { OtaError, toOtaError } from './errors.js';
import { modelInfoPayload, progressFields, ProgressGate } from './messages.js';
import { isModelRole, type ActiveModel, type ModelRegistry, type ModelRole } from './registry.js';
import { parseRoleRequest, parseUpdateRequest } from './requests.js';
import type { ModelUpdater, ProgressListener, UpdateRequest } from './updater.js';

/** The part of the MQTT relay (agent/mqtt/relay.ts) that OTA uses. */
export interface OtaMqtt {
  readonly baseTopic: string;
  subscribe(topicFilter: string, handler: MessageHandler): () => void;
  publishDirect(topic: string, payload: string | Buffer, options?: { qos?: 0 | 1; retain?: boolean }): Promise<void>;
}

/** The part of the store OTA uses: retained model info that must survive a broker outage. */
export interface OtaOutbox {
  enqueue(messages: OutboxMessage[]): boolean;
}

export interface ModelCommandsDeps {
  updater: ModelUpdater;
  registry: ModelRegistry;
  commands: Pick<RemoteCommands, 'register' | 'release'>;
  /** Called after every activation, to publish the retained model info. */
  onActivated: (active: ActiveModel) => void;
  /** The update request of the version announced for a role (agent/ota/update-state.ts); null: none. */
  announced: (role: ModelRole) => UpdateRequest | null;
}

/** Download progress is published every this many percent. */
const PROGRESS_STEP_PERCENT = 10;

interface Subject {
  role: string | null;
  version: string | null;
}

export class ModelCommands {
  constructor(private readonly deps: ModelCommandsDeps) {}

  start(): void {
    this.deps.commands.register(this, 'model-update', this.handler((request, _subject, onProgress) => this.deps.updater.update(parseUpdateRequest(request.body), onProgress)));
    this.deps.commands.register(
      this,
      'model-install',
      this.handler((request, subject, onProgress) => {
        const role = parseRoleRequest(request.body);
        const announced = isModelRole(role) ? this.deps.announced(role) : null;
        if (!announced) throw new OtaError('invalid_request', `no ${role} version is announced on models/${role}/available`);
        subject.version = announced.version;
        // The same verified, validated, rolled-back-on-failure update as model-update, signature included.
        return this.deps.updater.update(announced, onProgress);
      }),
    );
    this.deps.commands.register(
      this,
      'model-rollback',
      this.handler(async (request, subject, onProgress) => {
        const role = parseRoleRequest(request.body);
        // Name the version it goes back to in every reply, failures included, when there is one.
        if (isModelRole(role)) subject.version = await this.deps.registry.rollbackTarget(role).then((t) => t.installed.manifest.version, () => null);
        return this.deps.updater.rollback(role, onProgress);
      }),
    );
  }

  stop(): void {
    this.deps.commands.release(this);
  }

  private handler(run: (request: CommandRequest, subject: Subject, onProgress: ProgressListener) => Promise<ActiveModel>): CommandHandler {
    return async (request) => {
      const { body } = request;
      const subject: Subject = {
        role: typeof body['role'] === 'string' ? echo(body['role']) : null,
        version: typeof body['version'] === 'string' ? echo(body['version']) : null,
      };
      const gate = new ProgressGate(PROGRESS_STEP_PERCENT);
      try {
        const active = await run(request, subject, (progress) => {
          if (gate.shouldReport(progress)) request.progress({ ...subject, ...progressFields(progress) });
        });
        this.deps.onActivated(active);
        return { role: active.role, version: active.manifest.version, model: modelInfoPayload(active) };
      } catch (err) {
        const error = toOtaError(err, 'install_failed');
        throw new CommandError(error.code, error.message, { ...subject });
      }
    };
  }
}
