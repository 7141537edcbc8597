/**
 * What the agent shows in Home Assistant, as data: one device-based discovery config
 * (`<discovery_prefix>/device/<node>/config`, with `dev`, `o` and `cmps`). The component ids are the
 * object ids of the per-entity configs earlier versions published, and the unique_ids are the same, so
 * the migration keeps every entity with its history. Pure functions: the tests check every field
 * against Home Assistant's documented schema.
 *
 * Abbreviations: only `dev`, `o`, `cmps` and `p` (platform), the ones Home Assistant's device discovery
 * documents for these keys; every other key is written out.
 */
import { Topic } from './contract/topics.js';
import { MODEL_ROLES, type ModelRole } from '../ota/registry.js';
import { ROLE_TITLES } from '../ota/update-state.js';

type Platform = 'binary_sensor' | 'sensor' | 'image' | 'switch' | 'button' | 'update';

/** One camera's entities. `name` null: the agent's only (first) camera, whose ids carry no camera name. */
export interface CameraEntities {
  name: string | null;
}

export interface DiscoveryInput {
  deviceId: string;
  discoveryPrefix: string;
  /** `<prefix>/<device_id>`: where the agent publishes (MqttRelay.baseTopic). */
  baseTopic: string;
  device: { model: string; sw_version: string; /** Origin `url`: where to read about edge-agent; omitted when unknown. */ url?: string };
  /** The cameras whose intrusion, snapshot and vision diagnostics are announced (none: vision off). */
  cameras: readonly CameraEntities[];
  /** Announce the CPU temperature sensor (the thermal zone file was readable). */
  cpuTemperature: boolean;
}

export interface Component {
  /** The key under `cmps` (the object id earlier versions used in the per-entity topic). */
  id: string;
  config: Record<string, unknown>;
}

export interface DeviceDiscovery {
  topic: string;
  payload: Record<string, unknown>;
}

/** Home Assistant accepts only these characters in the ids of a discovery topic. */
export function topicId(value: string): string {
  return value.replace(/[^a-zA-Z0-9_-]/g, '_');
}

/** The per-entity topic an earlier version published a component's config on (what the migration moves from). */
export function perEntityTopic(input: Pick<DiscoveryInput, 'deviceId' | 'discoveryPrefix'>, component: Component): string {
  return `${input.discoveryPrefix}/${String(component.config['p'])}/${topicId(input.deviceId)}/${component.id}/config`;
}

/** Entity ids are lowercase letters, digits and `_`. */
function entitySlug(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

const availabilityOf = (base: string) => [{ topic: `${base}/${Topic.status}`, payload_available: 'online', payload_not_available: 'offline' }];

/** The device-based discovery config: every component in one retained message. */
export function deviceDiscovery(input: DiscoveryInput): DeviceDiscovery {
  const node = topicId(input.deviceId);
  const { model, sw_version, url } = input.device;
  return {
    topic: `${input.discoveryPrefix}/device/${node}/config`,
    payload: {
      dev: { identifiers: [`edge_agent_${node}`], name: `edge-agent ${input.deviceId}`, manufacturer: 'edge-agent', model, sw_version },
      o: { name: 'edge-agent', sw_version, ...(url ? { url } : {}) },
      availability: availabilityOf(input.baseTopic),
      qos: 1,
      cmps: Object.fromEntries(components(input).map((c) => [c.id, c.config])),
    },
  };
}

/** Every component of the device, keyed by a stable id (the unique_id, history and customisations depend on it). */
export function components(input: DiscoveryInput): Component[] {
  const node = topicId(input.deviceId);
  const base = input.baseTopic;
  const at = (suffix: string) => `${base}/${suffix}`;
  const component = (platform: Platform, id: string, fields: Record<string, unknown>): Component => ({
    id,
    config: {
      p: platform,
      ...fields,
      unique_id: `edge_agent_${node}_${id}`,
      // What Home Assistant named these entities when they came from per-entity configs: kept across the migration.
      default_entity_id: `${platform}.${entitySlug(`edge_agent_${node}_${id}`)}`,
    },
  });
  const diagnostic = (id: string, fields: Record<string, unknown>): Component =>
    component('sensor', id, { ...fields, entity_category: 'diagnostic', state_topic: at(Topic.diagnostics), state_class: 'measurement' });
  const celsius = { device_class: 'temperature', unit_of_measurement: '°C', state_class: 'measurement' };

  return [
    ...input.cameras.flatMap((camera) => cameraComponents(camera, at, component)),
    component('sensor', 'temperature', {
      name: 'Temperature',
      ...celsius,
      state_topic: at(Topic.temperature),
      // "None" is Home Assistant's payload for an unknown value: an invalid reading is not a number.
      value_template: '{{ value_json.celsius if value_json.valid else None }}',
    }),
    component('sensor', 'temperature_forecast', {
      name: 'Temperature forecast',
      ...celsius,
      state_topic: at(Topic.forecast),
      value_template: '{{ value_json.predicted_celsius }}',
      json_attributes_topic: at(Topic.forecast),
      json_attributes_template: '{{ {"horizon_s": value_json.horizon_s, "based_on": value_json.based_on, "model": value_json.model} | tojson }}',
    }),
    component('sensor', 'forecast_skill', {
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
    component('switch', 'alarm', {
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
    component('button', 'alarm_silence', {
      name: 'Silence alarm',
      icon: 'mdi:alarm-off',
      command_topic: at(Topic.command('alarm')),
      payload_press: 'silence',
    }),
    diagnostic('outbox_depth', { name: 'Outbox depth', icon: 'mdi:tray-full', unit_of_measurement: 'messages', value_template: '{{ value_json.outbox.depth }}' }),
    diagnostic('outbox_oldest_age', {
      name: 'Oldest waiting message',
      device_class: 'duration',
      unit_of_measurement: 's',
      // Unknown while nothing waits: the outbox is empty.
      value_template: '{{ value_json.outbox.oldest_age_s if value_json.outbox.oldest_age_s is not none else None }}',
    }),
    diagnostic('inference_time', {
      name: 'Last inference time',
      device_class: 'duration',
      unit_of_measurement: 'ms',
      value_template: '{{ value_json.last_inference_ms if value_json.last_inference_ms is not none else None }}',
    }),
    diagnostic('forecast_error', {
      name: 'Forecast error',
      icon: 'mdi:thermometer-alert',
      unit_of_measurement: '°C',
      suggested_display_precision: 2,
      // The mean absolute error of the forecasts scored over the last 24 h; unknown until some matured.
      value_template: '{{ value_json.forecast_mae_celsius if value_json.forecast_mae_celsius is not none else None }}',
    }),
    ...(input.cpuTemperature
      ? [diagnostic('cpu_temperature', { name: 'CPU temperature', device_class: 'temperature', unit_of_measurement: '°C', value_template: '{{ value_json.cpu_temperature_c }}' })]
      : []),
    ...MODEL_ROLES.map((role) => updateComponent(role, at, component)),
  ];
}

type Make = (platform: Platform, id: string, fields: Record<string, unknown>) => Component;

/**
 * A camera's entities (the frames it dropped among them), on its own alert and snapshot topics. The one
 * camera of `camera:` keeps the ids earlier versions gave it (`intrusion`, `snapshot`); a camera of
 * `cameras` has ids that start with its name (`garage_intrusion`).
 */
function cameraComponents(camera: CameraEntities, at: (suffix: string) => string, component: Make): Component[] {
  const id = (what: string) => (camera.name === null ? what : `${topicId(camera.name)}_${what}`);
  const named = (what: string) => (camera.name === null ? what : `${what} (${camera.name})`);
  const alerts = at(Topic.cameraAlert(camera.name));
  return [
    component('binary_sensor', id('intrusion'), {
      name: named('Intrusion'),
      device_class: 'occupancy',
      state_topic: alerts,
      value_template: "{{ 'ON' if value_json.intruder and value_json.event != 'end' else 'OFF' }}",
      json_attributes_topic: alerts,
      json_attributes_template: '{{ {"event_id": value_json.event_id, "objects": value_json.objects, "total_objects": value_json.total_objects} | tojson }}',
    }),
    component('image', id('snapshot'), { name: named('Intrusion snapshot'), image_topic: at(Topic.cameraSnapshot(camera.name)), content_type: 'image/jpeg' }),
    component('sensor', id('frames_dropped'), {
      name: named('Frames dropped'),
      entity_category: 'diagnostic',
      icon: 'mdi:image-broken-variant',
      state_class: 'total_increasing',
      state_topic: at(Topic.diagnostics),
      // A camera of `cameras` reads its own count (0 until it drops one); the one camera the total, as before.
      value_template: camera.name === null ? '{{ value_json.frames_dropped }}' : `{{ value_json.frames_dropped_by_camera.get('${camera.name}', 0) }}`,
    }),
  ];
}

/**
 * The `update` entity of a model role: its state is the retained `<base>/models/<role>/update` (OTA
 * publishes it); Install sends `{"role": ...}` to `<base>/cmd/model-install`, the router's command that
 * installs the announced version exactly as `cmd/model-update` would (signature, validation, rollback).
 */
function updateComponent(role: ModelRole, at: (suffix: string) => string, component: Make): Component {
  return component('update', `${role}_model`, {
    name: ROLE_TITLES[role],
    entity_category: 'config',
    state_topic: at(Topic.modelUpdate(role)),
    command_topic: at(Topic.command('model-install')),
    payload_install: JSON.stringify({ role }),
  });
}
