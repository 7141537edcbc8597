/**
 * The update state of each model role, for Home Assistant's `update` entity and anyone else: the
 * retained `<base>/models/<role>/update` with the installed version, the latest one announced, whether
 * an install runs and how far its download is, and the release summary.
 *
 * The latest version comes from a retained `<base>/models/<role>/available` that an operator publishes
 * (`{version, url, sha256, signature?, summary?, name?}`); it is checked when it arrives, so a bad
 * announcement is logged with the field at fault and never offered. `cmd/model-install` installs the
 * announcement through the same updater as `cmd/model-update` (agent/ota/mqtt-commands.ts). Progress and
 * failures come from the updater's bus events, so updates from every trigger show.
 */
import type { Logger } from '../lib/log.js';
import type { MessageBuilder } from '../mqtt/messages.js';
import { Topic } from '../mqtt/contract/topics.js';
import type { EventBus } from '../runtime/event-bus.js';
import type { OtaMqtt, OtaOutbox } from './mqtt-commands.js';
import { checkVersion, isModelRole, MODEL_ROLES, type ModelRole } from './registry.js';
import { parseJsonObject, parseUpdateRequest } from './requests.js';
import type { UpdateRequest } from './updater.js';
import { normalizeSha256 } from './verify.js';

/** Home Assistant shows at most this many characters of a release summary. */
export const MAX_SUMMARY_CHARS = 255;
/** The download's percentage is published every this many percent (a handful of messages per install). */
const PERCENT_STEP = 10;

export interface Announcement {
  request: UpdateRequest;
  summary: string | null;
}

export interface ModelUpdateStateDeps {
  mqtt: Pick<OtaMqtt, 'baseTopic' | 'subscribe'>;
  outbox: OtaOutbox;
  messages: Pick<MessageBuilder, 'modelUpdate'>;
  bus: EventBus;
  /** The model a role's pipeline serves now (null: none; a role without a pipeline gets no state). */
  serving: (role: ModelRole) => { name: string; version: string } | null | undefined;
  logger: Logger;
  clock?: () => number;
}

interface RoleState {
  installed: string | null;
  title: string;
  announcement: Announcement | null;
  inProgress: boolean;
  percent: number | null;
  /** Why the last install failed (until the next one starts or an announcement arrives). */
  failure: string | null;
}

/** What a role's model is called where no model name is known yet (Home Assistant's update entity). */
export const ROLE_TITLES: Record<ModelRole, string> = { intruder: 'Intruder detector model', forecast: 'Temperature forecaster model' };

/**
 * Checks an announcement as it arrives: the fields of an update request (naming the one at fault),
 * the version's and the sha256's format, and an optional string `summary`.
 */
export function parseAnnouncement(role: ModelRole, payload: Buffer): Announcement {
  const body = parseJsonObject(payload, `the ${role} announcement`);
  const request = parseUpdateRequest({ ...body, role });
  checkVersion(request.version);
  normalizeSha256(request.sha256);
  const summary = body['summary'];
  if (summary !== undefined && summary !== null && typeof summary !== 'string') throw new Error("'summary' must be a string");
  return { request, summary: typeof summary === 'string' ? summary.slice(0, MAX_SUMMARY_CHARS) : null };
}

export class ModelUpdateState {
  private readonly roles = new Map<ModelRole, RoleState>();
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly deps: ModelUpdateStateDeps) {}

  /** Publishes the state of every role a pipeline serves and follows announcements and updates. */
  start(): void {
    for (const role of MODEL_ROLES) {
      const serving = this.deps.serving(role);
      if (serving === undefined) continue;
      this.roles.set(role, { installed: serving?.version ?? null, title: serving?.name ?? ROLE_TITLES[role], announcement: null, inProgress: false, percent: null, failure: null });
      this.publish(role);
    }
    const { bus, mqtt } = this.deps;
    bus.on('model.update.progress', this, (e) => this.onProgress(e.role, e.percent));
    bus.on('model.update.failed', this, (e) => this.change(e.role, { inProgress: false, percent: null, failure: `installing ${e.version} failed: ${e.error}` }));
    bus.on('model.activated', this, (e) => this.change(e.role, { installed: e.version, title: e.name, inProgress: false, percent: null, failure: null }));
    this.unsubscribe = mqtt.subscribe(`${mqtt.baseTopic}/${Topic.modelAvailable('+')}`, (topic, payload) => this.onAnnouncement(topic, payload));
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.deps.bus.removeListeners(this);
  }

  /** The update request of the version announced for `role` (null: none announced). */
  announced(role: ModelRole): UpdateRequest | null {
    return this.roles.get(role)?.announcement?.request ?? null;
  }

  private onAnnouncement(topic: string, payload: Buffer): void {
    const role = topic.slice(this.deps.mqtt.baseTopic.length + 1).split('/')[1] ?? '';
    if (!isModelRole(role) || !this.roles.has(role)) {
      this.deps.logger.warn({ topic }, 'ignored a model announcement for a role without a pipeline');
      return;
    }
    if (payload.length === 0) {
      // The operator cleared the retained announcement: nothing is offered any more.
      this.change(role, { announcement: null });
      return;
    }
    try {
      this.change(role, { announcement: parseAnnouncement(role, payload), failure: null });
    } catch (err) {
      this.deps.logger.warn({ topic }, `ignored the ${role} model announcement: ${(err as Error).message}`);
    }
  }

  private onProgress(role: ModelRole, percent: number | null): void {
    const state = this.roles.get(role);
    if (!state) return;
    const step = (p: number | null) => (p === null ? null : Math.floor(p / PERCENT_STEP));
    // A new install, or its download another step further: per network chunk would be hundreds of messages.
    if (state.inProgress && step(percent) === step(state.percent)) return;
    this.change(role, { inProgress: true, percent, failure: null });
  }

  private change(role: ModelRole, fields: Partial<RoleState>): void {
    const state = this.roles.get(role);
    if (!state) return;
    Object.assign(state, fields);
    this.publish(role);
  }

  private publish(role: ModelRole): void {
    const state = this.roles.get(role)!;
    const latest = state.announcement?.request.version ?? state.installed;
    const message = this.deps.messages.modelUpdate(
      role,
      {
        installed_version: state.installed,
        latest_version: latest,
        title: state.title,
        release_summary: (state.failure ?? state.announcement?.summary ?? null)?.slice(0, MAX_SUMMARY_CHARS) ?? null,
        in_progress: state.inProgress,
        update_percentage: state.inProgress ? state.percent : null,
      },
      (this.deps.clock ?? Date.now)(),
    );
    if (!this.deps.outbox.enqueue([message])) this.deps.logger.error({ role }, 'could not queue the model update state');
  }
}
