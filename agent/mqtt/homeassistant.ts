/**
 * Home Assistant MQTT discovery: retained configs under
 * `<discovery_prefix>/<component>/<device_id>/<object_id>/config` make the agent's entities appear by
 * themselves. Configs go through the outbox (retained, QoS 1), so they reach the broker even if it is
 * down at start. They are published again whenever Home Assistant announces itself (`<prefix>/status`
 * = `online`: it restarted and may have lost them), and removed with empty retained payloads when
 * discovery is turned off. A small state file remembers what was published, so turning it off removes
 * exactly that, and brokers that never saw discovery never get messages under the discovery prefix.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AgentConfig } from '../config/types.js';
import type { ComponentHealth, Service } from '../runtime/service.js';
import type { OutboxMessage } from '../store/types.js';
import type { Logger } from '../lib/log.js';
import { writeFileAtomic } from '../lib/atomic-file.js';
import { Topic } from './contract/topics.js';

export interface HomeAssistantDeps {
  config: Pick<AgentConfig, 'device_id' | 'homeassistant'>;
  /** `<prefix>/<device_id>`: where the agent publishes (MqttRelay.baseTopic). */
  baseTopic: string;
  /** Queues messages in the outbox (SqliteStore.enqueue). */
  publish: (messages: OutboxMessage[]) => boolean;
  /** Subscribes through the relay (MqttRelay.subscribe); returns the unsubscribe function. */
  subscribe: (topicFilter: string, handler: (topic: string, payload: Buffer) => void) => () => void;
  device: { model: string; sw_version: string };
  /** JSON file listing the config topics published, e.g. `<data_dir>/homeassistant.json`. */
  stateFile: string;
  logger: Logger;
}

type Component = 'binary_sensor' | 'sensor' | 'image' | 'switch' | 'button';

export interface DiscoveryConfig {
  topic: string;
  component: Component;
  object_id: string;
  payload: Record<string, unknown>;
}

/** Home Assistant accepts only these characters in the node and object ids of a discovery topic. */
function topicId(value: string): string {
  return value.replace(/[^a-zA-Z0-9_-]/g, '_');
}

/** The entities this agent exposes, with their full discovery payloads. Pure: tests check it field by field. */
export function discoveryConfigs(deps: Pick<HomeAssistantDeps, 'config' | 'baseTopic' | 'device'>): DiscoveryConfig[] {
  const { device_id: deviceId, homeassistant } = deps.config;
  const node = topicId(deviceId);
  const base = deps.baseTopic;
  const at = (suffix: string) => `${base}/${suffix}`;
  const common = {
    device: {
      identifiers: [`edge_agent_${node}`],
      name: `edge-agent ${deviceId}`,
      manufacturer: 'edge-agent',
      model: deps.device.model,
      sw_version: deps.device.sw_version,
    },
    origin: { name: 'edge-agent', sw_version: deps.device.sw_version },
    availability: [{ topic: at(Topic.status), payload_available: 'online', payload_not_available: 'offline' }],
    qos: 1,
  };
  const entity = (component: Component, objectId: string, fields: Record<string, unknown>): DiscoveryConfig => ({
    topic: `${homeassistant.discovery_prefix}/${component}/${node}/${objectId}/config`,
    component,
    object_id: objectId,
    payload: { ...fields, unique_id: `edge_agent_${node}_${objectId}`, ...common },
  });
  const celsius = { device_class: 'temperature', unit_of_measurement: '°C', state_class: 'measurement' };
  return [
    entity('binary_sensor', 'intrusion', {
      name: 'Intrusion',
      device_class: 'occupancy',
      state_topic: at(Topic.intruderAlert),
      value_template: "{{ 'ON' if value_json.intruder and value_json.event != 'end' else 'OFF' }}",
      json_attributes_topic: at(Topic.intruderAlert),
      json_attributes_template: '{{ {"event_id": value_json.event_id, "objects": value_json.objects, "total_objects": value_json.total_objects} | tojson }}',
    }),
    entity('sensor', 'temperature', {
      name: 'Temperature',
      ...celsius,
      state_topic: at(Topic.temperature),
      // "None" is Home Assistant's payload for an unknown value: an invalid reading is not a number.
      value_template: '{{ value_json.celsius if value_json.valid else None }}',
    }),
    entity('sensor', 'temperature_forecast', {
      name: 'Temperature forecast',
      ...celsius,
      state_topic: at(Topic.forecast),
      value_template: '{{ value_json.predicted_celsius }}',
      json_attributes_topic: at(Topic.forecast),
      json_attributes_template: '{{ {"horizon_s": value_json.horizon_s, "based_on": value_json.based_on, "model": value_json.model} | tojson }}',
    }),
    entity('sensor', 'forecast_skill', {
      name: 'Forecast skill',
      icon: 'mdi:bullseye-arrow',
      unit_of_measurement: '%',
      state_class: 'measurement',
      state_topic: at(Topic.forecastScore),
      // Skill over the last 24 h: above 0 the forecasts beat "no change"; unknown until some have matured.
      value_template: '{{ (value_json.last_24h.skill * 100) | round(1) if value_json.last_24h.skill is not none else None }}',
      json_attributes_topic: at(Topic.forecastScore),
      json_attributes_template:
        '{{ {"mae_celsius": value_json.last_24h.mae_celsius, "persistence_mae_celsius": value_json.last_24h.persistence_mae_celsius, ' +
        '"scored": value_json.last_24h.scored, "last_7d": value_json.last_7d, "model": value_json.model, "fallback": value_json.fallback} | tojson }}',
    }),
    entity('image', 'snapshot', { name: 'Intrusion snapshot', image_topic: at(Topic.snapshot), content_type: 'image/jpeg' }),
    entity('switch', 'alarm', {
      name: 'Alarm',
      icon: 'mdi:alarm-light',
      state_topic: at(Topic.alarm),
      state_on: 'on',
      state_off: 'off',
      command_topic: at(Topic.command('alarm')),
      // Switching on runs the alarm's test (a short chirp); switching off turns it off.
      payload_on: 'test',
      payload_off: 'off',
    }),
    entity('button', 'alarm_silence', {
      name: 'Silence alarm',
      icon: 'mdi:alarm-off',
      command_topic: at(Topic.command('alarm')),
      payload_press: 'silence',
    }),
  ];
}

export class HomeAssistantDiscovery implements Service {
  readonly name = 'homeassistant';
  private unsubscribe: (() => void) | null = null;
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
    const configs = discoveryConfigs(this.deps);
    const current = new Set(configs.map((c) => c.topic));
    // Entities this version no longer has (or a renamed device) are removed, not left as orphans.
    const stale = previous.filter((topic) => !current.has(topic));
    if (stale.length > 0) await this.remove(stale);
    this.announce(configs);
    await this.savePublishedTopics([...current]);
    this.unsubscribe = this.deps.subscribe(`${homeassistant.discovery_prefix}/status`, (_topic, payload) => {
      if (payload.toString().trim() === 'online') this.announce(configs);
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  health(): ComponentHealth {
    return this.state;
  }

  private announce(configs: DiscoveryConfig[]): void {
    const ok = this.deps.publish(configs.map((c) => ({ topic: c.topic, payload: JSON.stringify(c.payload), retain: true })));
    this.state = ok ? { state: 'ok', entities: configs.length } : { state: 'degraded', detail: 'the outbox refused the discovery configs' };
    this.deps.logger.info({ entities: configs.length, ok }, 'Home Assistant discovery configs queued');
  }

  private async remove(topics: string[]): Promise<void> {
    this.deps.publish(topics.map((topic) => ({ topic, payload: '', retain: true })));
    await this.savePublishedTopics([]);
    this.deps.logger.info({ entities: topics.length }, 'Home Assistant discovery configs removed');
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
