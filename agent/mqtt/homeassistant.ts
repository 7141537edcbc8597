/**
 * Home Assistant MQTT discovery: one retained device-based config on
 * `<discovery_prefix>/device/<device_id>/config` makes every entity of the agent appear under one device
 * (the components are in agent/mqtt/homeassistant-components.ts). It goes through the outbox (retained,
 * QoS 1), so it reaches the broker even if that is down at start.
 *
 * - Migration: per-entity configs an earlier version published (`<prefix>/<component>/<device_id>/<object_id>/config`)
 *   first get `{"migrate_discovery": true}`, then the device config, then an empty retained payload, in
 *   one outbox write: Home Assistant keeps the entities (same unique_id) and the broker forgets the old topics.
 * - Re-announced when Home Assistant publishes `online` on `<prefix>/status`, after a random delay
 *   (0-5 s): a birth message reaches every device at once, and they should not all answer in the same second.
 * - Turned off: the configs published earlier are removed with empty retained payloads.
 *
 * A small state file remembers what was published, so turning discovery off removes exactly that, and
 * brokers that never saw discovery never get messages under the discovery prefix.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AgentConfig } from '../config/types.js';
import type { ComponentHealth, Service } from '../runtime/service.js';
import type { OutboxMessage } from '../store/types.js';
import type { Logger } from '../lib/log.js';
import { writeFileAtomic } from '../lib/atomic-file.js';
import { components, deviceDiscovery, perEntityTopic, type CameraEntities, type DiscoveryInput } from './homeassistant-components.js';

export interface HomeAssistantDeps {
  config: Pick<AgentConfig, 'device_id' | 'homeassistant'>;
  /** `<prefix>/<device_id>`: where the agent publishes (MqttRelay.baseTopic). */
  baseTopic: string;
  /** Queues messages in the outbox (SqliteStore.enqueue). */
  publish: (messages: OutboxMessage[]) => boolean;
  /** Subscribes through the relay (MqttRelay.subscribe); returns the unsubscribe function. */
  subscribe: (topicFilter: string, handler: (topic: string, payload: Buffer) => void) => () => void;
  device: DiscoveryInput['device'];
  /** The cameras that get entities (none: vision off). */
  cameras: readonly CameraEntities[];
  /** Whether the CPU temperature can be read (its sensor is announced only then). */
  cpuTemperature: boolean;
  /** JSON file listing the config topics published, e.g. `<data_dir>/homeassistant.json`. */
  stateFile: string;
  logger: Logger;
  /** The delay before answering Home Assistant's birth message, in ms (default: random, 0 to 5 s). */
  announceDelayMs?: () => number;
}

/** Empty retained payload: the broker forgets the topic, Home Assistant removes what it configured. */
const CLEAR = '';
const MIGRATE = JSON.stringify({ migrate_discovery: true });
const MAX_ANNOUNCE_DELAY_MS = 5_000;

export class HomeAssistantDiscovery implements Service {
  readonly name = 'homeassistant';
  private unsubscribe: (() => void) | null = null;
  private pendingAnnounce: NodeJS.Timeout | null = null;
  private state: ComponentHealth = { state: 'disabled' };

  constructor(private readonly deps: HomeAssistantDeps) {}

  /** Never throws: a state file it cannot write shows as `degraded` in /health, the agent runs on. */
  async start(): Promise<void> {
    try {
      await this.sync();
    } catch (err) {
      this.state = { state: 'degraded', detail: `discovery state file ${this.deps.stateFile}: ${(err as Error).message}` };
      this.deps.logger.error({ err }, 'Home Assistant discovery failed');
    }
  }

  private async sync(): Promise<void> {
    const { homeassistant } = this.deps.config;
    const previous = await this.publishedTopics();
    if (!homeassistant.enabled) {
      if (previous.length > 0) await this.remove(previous);
      return;
    }
    const input = this.input();
    const discovery = deviceDiscovery(input);
    const migratable = new Set(components(input).map((c) => perEntityTopic(input, c)));
    const older = previous.filter((topic) => topic !== discovery.topic);
    const migrated = older.filter((topic) => migratable.has(topic));
    // Per-entity configs of this device's components move to the device config; anything else (a renamed
    // device, an entity this version no longer has) is removed, not left as an orphan.
    const messages: OutboxMessage[] = [
      ...migrated.map((topic) => ({ topic, payload: MIGRATE, retain: true })),
      { topic: discovery.topic, payload: JSON.stringify(discovery.payload), retain: true },
      ...older.map((topic) => ({ topic, payload: CLEAR, retain: true })),
    ];
    this.queue(messages, Object.keys(discovery.payload['cmps'] as object).length);
    if (older.length > 0) this.deps.logger.info({ migrated: migrated.length, removed: older.length - migrated.length }, 'per-entity discovery configs moved to the device config');
    await this.savePublishedTopics([discovery.topic]);
    this.unsubscribe = this.deps.subscribe(`${homeassistant.discovery_prefix}/status`, (_topic, payload) => {
      if (payload.toString().trim() === 'online') this.announceLater(discovery);
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.pendingAnnounce) clearTimeout(this.pendingAnnounce);
    this.pendingAnnounce = null;
  }

  health(): ComponentHealth {
    return this.state;
  }

  private input(): DiscoveryInput {
    const { config, baseTopic, device, cameras, cpuTemperature } = this.deps;
    return { deviceId: config.device_id, discoveryPrefix: config.homeassistant.discovery_prefix, baseTopic, device, cameras, cpuTemperature };
  }

  /** One announcement per burst of birth messages: a second `online` while one waits changes nothing. */
  private announceLater(discovery: { topic: string; payload: Record<string, unknown> }): void {
    if (this.pendingAnnounce) return;
    const delay = (this.deps.announceDelayMs ?? (() => Math.random() * MAX_ANNOUNCE_DELAY_MS))();
    this.pendingAnnounce = setTimeout(() => {
      this.pendingAnnounce = null;
      this.queue([{ topic: discovery.topic, payload: JSON.stringify(discovery.payload), retain: true }], Object.keys(discovery.payload['cmps'] as object).length);
    }, delay);
  }

  private queue(messages: OutboxMessage[], entities: number): void {
    const ok = this.deps.publish(messages);
    this.state = ok ? { state: 'ok', entities } : { state: 'degraded', detail: 'the outbox refused the discovery config' };
    this.deps.logger.info({ entities, ok }, 'Home Assistant device discovery config queued');
  }

  private async remove(topics: string[]): Promise<void> {
    this.deps.publish(topics.map((topic) => ({ topic, payload: CLEAR, retain: true })));
    await this.savePublishedTopics([]);
    this.deps.logger.info({ topics: topics.length }, 'Home Assistant discovery configs removed');
  }

  private async publishedTopics(): Promise<string[]> {
    let text: string;
    try {
      text = await readFile(this.deps.stateFile, 'utf8');
    } catch {
      return [];
    }
    try {
      const parsed = JSON.parse(text) as { topics?: unknown };
      return Array.isArray(parsed.topics) ? parsed.topics.filter((t): t is string => typeof t === 'string') : [];
    } catch {
      this.deps.logger.warn({ file: this.deps.stateFile }, 'Home Assistant state file is not valid JSON; ignoring it');
      return [];
    }
  }

  /** Written atomically and durably (agent/lib/atomic-file.ts): a power cut leaves the old list or the new one. */
  private async savePublishedTopics(topics: string[]): Promise<void> {
    const file = this.deps.stateFile;
    await mkdir(dirname(file), { recursive: true });
    await writeFileAtomic(file, JSON.stringify({ topics }, null, 2) + '\n');
  }
}
