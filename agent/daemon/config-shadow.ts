/**
 * Remote configuration through the AWS IoT named shadow `config`: an operator writes a partial
 * configuration as `desired`; the device validates and applies it through the same path as
 * `cmd/config/set` (RemoteConfig.change: the file merged, validated as at start, written atomically,
 * live keys applied), then reports the values as `reported` and clears `desired`. A desired state that
 * does not validate is not applied: `reported.config_errors` lists every problem, and `desired` is
 * cleared so the device does not try it again at each reconnect.
 *
 * On every (re)connect the device asks for the shadow (`get`): a change made while it was offline
 * arrives as the `delta` of the answer; a 404 (no shadow yet) means nothing is desired.
 */
import type { Logger } from '../lib/log.js';
import { CommandError } from '../mqtt/remote-commands.js';
import type { EventBus } from '../runtime/event-bus.js';
import type { ComponentHealth, Service } from '../runtime/service.js';
import type { ConfigChange } from './remote-config.js';

type Obj = Record<string, unknown>;

export interface ShadowMqtt {
  subscribe(topicFilter: string, handler: (topic: string, payload: Buffer) => void | Promise<void>): () => void;
  publishDirect(topic: string, payload: string | Buffer, options?: { qos?: 0 | 1 }): Promise<void>;
}

export interface ConfigShadowDeps {
  thingName: string;
  mqtt: ShadowMqtt;
  /** Its `mqtt.connection` events trigger a `get` on every (re)connect. */
  bus: EventBus;
  /** RemoteConfig.change: the one path a remote change takes. */
  change: (partial: Obj) => Promise<ConfigChange>;
  logger: Logger;
}

export const SHADOW_NAME = 'config';

export function configShadowTopic(thingName: string, suffix: string): string {
  return `$aws/things/${thingName}/shadow/name/${SHADOW_NAME}/${suffix}`;
}

export class ConfigShadow implements Service {
  readonly name = 'config-shadow';
  private unsubscribers: (() => void)[] = [];
  private counts = { applied: 0, rejected: 0 };
  private readonly log: Logger;

  constructor(private readonly deps: ConfigShadowDeps) {
    this.log = deps.logger.child({ module: 'config-shadow', thing: deps.thingName });
  }

  start(): Promise<void> {
    const on = (suffix: string, handler: (payload: Buffer) => Promise<void> | void) =>
      this.deps.mqtt.subscribe(configShadowTopic(this.deps.thingName, suffix), (_topic, payload) => handler(payload));
    this.unsubscribers = [
      on('update/delta', (payload) => this.onDesired(stateOf(payload))),
      // The shadow as it is: its `delta` holds what was desired while the device was away.
      on('get/accepted', (payload) => this.onDesired(objectAt(stateOf(payload), 'delta'))),
      on('get/rejected', (payload) => this.onRejected('get', payload)),
      on('update/rejected', (payload) => this.onRejected('update', payload)),
    ];
    // The relay emits the event before it sends the subscriptions again: ask once they are on the wire.
    this.deps.bus.on('mqtt.connection', this, ({ connected }) => connected && setImmediate(() => this.requestShadow()));
    this.requestShadow();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.deps.bus.removeListeners(this);
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.unsubscribers = [];
    return Promise.resolve();
  }

  health(): ComponentHealth {
    return { state: 'ok', shadow: SHADOW_NAME, ...this.counts };
  }

  private requestShadow(): void {
    this.deps.mqtt.publishDirect(configShadowTopic(this.deps.thingName, 'get'), '{}', { qos: 1 }).catch((err: unknown) => {
      // Not connected: the next connection asks again.
      this.log.debug({ err }, 'could not ask for the config shadow');
    });
  }

  private async onDesired(desired: Obj | null): Promise<void> {
    if (desired === null || Object.keys(desired).length === 0) return;
    let reported: Obj;
    try {
      const change = await this.deps.change(structuredClone(desired));
      this.counts.applied++;
      reported = { ...desired, config_errors: null, restart_required: change.restart_required };
      this.log.info({ applied: change.applied, restart_required: change.restart_required }, 'desired configuration applied from the config shadow');
    } catch (err) {
      this.counts.rejected++;
      reported = { config_errors: configErrors(err) };
      this.log.warn({ err }, `desired configuration refused: ${(err as Error).message}`);
    }
    const update = { state: { reported, desired: null } };
    await this.deps.mqtt.publishDirect(configShadowTopic(this.deps.thingName, 'update'), JSON.stringify(update), { qos: 1 }).catch((err: unknown) => {
      // The desired state stays in the shadow: the `get` at the next connection brings it back.
      this.log.warn({ err }, 'could not report to the config shadow');
    });
  }

  private onRejected(operation: 'get' | 'update', payload: Buffer): void {
    const answer = payload.toString('utf8').slice(0, 500);
    // 404 to `get` is every device's state until an operator first writes the shadow: nothing is
    // desired, which is no reason for a warning at every connection.
    if (operation === 'get' && errorCodeOf(payload) === 404) {
      this.log.debug({ answer }, 'no config shadow yet: nothing desired');
      return;
    }
    this.log.warn({ operation, answer }, `the config shadow refused ${operation}`);
  }
}

/** Every problem of a refused change as `{path, message}` (a refusal that is not about a key has path ""). */
function configErrors(err: unknown): { path: string; message: string }[] {
  if (err instanceof CommandError && Array.isArray(err.data['problems'])) {
    return (err.data['problems'] as { path: string; message: string }[]).map(({ path, message }) => ({ path, message }));
  }
  return [{ path: '', message: (err as Error).message }];
}

/** The `code` of a shadow service error answer (`{code, message, timestamp}`), or null. */
function errorCodeOf(payload: Buffer): number | null {
  try {
    const code = (JSON.parse(payload.toString('utf8')) as Obj | null)?.code;
    return typeof code === 'number' ? code : null;
  } catch {
    return null;
  }
}

function stateOf(payload: Buffer): Obj | null {
  try {
    return objectAt(JSON.parse(payload.toString('utf8')) as unknown, 'state');
  } catch {
    return null;
  }
}

function objectAt(value: unknown, key: string): Obj | null {
  if (typeof value !== 'object' || value === null) return null;
  const inner = (value as Obj)[key];
  return typeof inner === 'object' && inner !== null && !Array.isArray(inner) ? (inner as Obj) : null;
}
