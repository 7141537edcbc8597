/**
 * Plays the AWS IoT Device Shadow service for one thing's named shadow over a real broker, as AWS
 * documents it (https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-mqtt.html and
 * device-shadow-document.html):
 *
 * - `get`: `get/accepted` with `{state: {desired, reported, delta}, version, timestamp}`, or
 *   `get/rejected` with code 404 while the shadow does not exist;
 * - `update`: merged into the document (objects key by key, a null value deletes its key, a null section
 *   deletes the section, arrays are replaced), then `update/accepted` and, when the update touched
 *   `desired` and desired still differs from reported, `update/delta` with only the differing keys;
 *   an update whose payload is not a JSON object with `state` is `update/rejected` with code 400.
 *
 * The service keeps a persistent session (a broker restart loses none of the requests meant for it), but
 * publishes only while connected: AWS does not queue for a device that is away with a clean session,
 * so a change made while the device is offline reaches it only through its next `get`.
 */
import { readFileSync } from 'node:fs';
import { connect, type MqttClient } from 'mqtt';
import type { CertFiles } from '../helpers/pki.js';

type Obj = Record<string, unknown>;

const isObject = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `update` merged into `into`: null deletes, objects merge key by key, anything else replaces. */
function merge(into: Obj, update: Obj): void {
  for (const [key, value] of Object.entries(update)) {
    if (value === null) delete into[key];
    else if (isObject(value) && isObject(into[key])) merge(into[key], value);
    else into[key] = structuredClone(value);
  }
}

/** The keys of `desired` whose values `reported` does not have (objects compared key by key). */
function deltaOf(desired: Obj, reported: Obj): Obj {
  const delta: Obj = {};
  for (const [key, value] of Object.entries(desired)) {
    const current = reported[key];
    if (isObject(value) && isObject(current)) {
      const inner = deltaOf(value, current);
      if (Object.keys(inner).length > 0) delta[key] = inner;
    } else if (JSON.stringify(value) !== JSON.stringify(current)) {
      delta[key] = value;
    }
  }
  return delta;
}

export class ShadowService {
  /** The document's state, null while the shadow does not exist. */
  private state: { desired?: Obj; reported?: Obj } | null = null;
  private version = 0;
  /** Requests received from the device, in order: `get` or `update`. */
  readonly requests: { operation: 'get' | 'update'; body: Obj | null }[] = [];

  private constructor(
    private readonly client: MqttClient,
    private readonly shadow: string,
    private readonly prefix: string,
  ) {}

  /** Connects as the `service` client (its CN must be allowed `$aws/#`) and serves `$aws/things/<thing>/shadow/name/<shadow>/`. */
  static async start(url: string, tls: { ca: string } & CertFiles, thing: string, shadow: string): Promise<ShadowService> {
    const prefix = `$aws/things/${thing}/shadow/name/${shadow}`;
    const client = connect(url, {
      ca: readFileSync(tls.ca),
      cert: readFileSync(tls.cert),
      key: readFileSync(tls.key),
      clientId: `shadow-service-${thing}`,
      clean: false,
      reconnectPeriod: 100,
    });
    client.on('error', () => {});
    const service = new ShadowService(client, shadow, prefix);
    client.on('message', (topic, payload) => service.onRequest(topic, payload));
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    await client.subscribeAsync([`${prefix}/get`, `${prefix}/update`], { qos: 1 });
    return service;
  }

  /** What an operator's UpdateThingShadow with `{state: {desired}}` does. */
  desire(desired: Obj): void {
    this.update({ state: { desired } });
  }

  get desired(): Obj | undefined {
    return this.state?.desired;
  }

  get reported(): Obj | undefined {
    return this.state?.reported;
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** The requests of `operation` so far. */
  count(operation: 'get' | 'update'): number {
    return this.requests.filter((r) => r.operation === operation).length;
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }

  private onRequest(topic: string, payload: Buffer): void {
    const operation = topic === `${this.prefix}/get` ? 'get' : 'update';
    let body: Obj | null = null;
    try {
      const parsed: unknown = JSON.parse(payload.toString('utf8'));
      if (isObject(parsed)) body = parsed;
    } catch {
      // Answered below as AWS answers a payload that is not JSON.
    }
    this.requests.push({ operation, body });
    if (operation === 'get') this.answerGet();
    else if (body === null || !isObject(body.state)) this.publish('update/rejected', { code: 400, message: 'Missing required node: state', timestamp: now() });
    else this.update(body);
  }

  private answerGet(): void {
    if (this.state === null) {
      this.publish('get/rejected', { code: 404, message: `No shadow exists with name: '${this.shadow}'`, timestamp: now() });
      return;
    }
    const state: Obj = structuredClone(this.state);
    const delta = deltaOf(this.state.desired ?? {}, this.state.reported ?? {});
    if (Object.keys(delta).length > 0) state.delta = delta;
    this.publish('get/accepted', { state, version: this.version, timestamp: now() });
  }

  private update(body: Obj): void {
    const requested = body.state as Obj;
    const state = (this.state ??= {});
    for (const section of ['desired', 'reported'] as const) {
      if (!(section in requested)) continue;
      const value = requested[section];
      if (value === null) delete state[section];
      else if (isObject(value)) merge((state[section] ??= {}), value);
    }
    this.version++;
    this.publish('update/accepted', { state: requested, version: this.version, timestamp: now() });
    const delta = deltaOf(state.desired ?? {}, state.reported ?? {});
    if (isObject(requested.desired) && Object.keys(delta).length > 0) this.publish('update/delta', { state: delta, version: this.version, timestamp: now() });
  }

  private publish(suffix: string, body: object): void {
    if (this.client.connected) void this.client.publishAsync(`${this.prefix}/${suffix}`, JSON.stringify(body), { qos: 1 }).catch(() => {});
  }
}

const now = () => Math.floor(Date.now() / 1000);
