import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultConfig } from '../../agent/config/load.js';
import type { OutboxMessage } from '../../agent/store/types.js';
import { HomeAssistantDiscovery, type HomeAssistantDeps } from '../../agent/mqtt/homeassistant.js';
import { deviceDiscovery, type DiscoveryInput } from '../../agent/mqtt/homeassistant-components.js';
import { silentLogger } from '../../agent/lib/log.js';
import { nextTurn } from '../helpers/turn.js';

const BASE = 'edge/pi-garage';
const DEVICE = { model: 'Raspberry Pi 5 Model B Rev 1.0', sw_version: '0.1.0', url: 'https://example.org/edge-agent' };
const DEVICE_TOPIC = 'homeassistant/device/pi-garage/config';

function input(overrides: Partial<DiscoveryInput> = {}): DiscoveryInput {
  return { deviceId: 'pi-garage', discoveryPrefix: 'homeassistant', baseTopic: BASE, device: DEVICE, cameras: [{ name: null }], cpuTemperature: true, ...overrides };
}

/**
 * Home Assistant's documented MQTT discovery options (integrations/mqtt and each platform's page) for
 * the keys this agent uses. Abbreviations: only those Home Assistant's abbreviation table lists.
 */
const ABBREVIATIONS: Record<string, string> = { dev: 'device', o: 'origin', cmps: 'components', p: 'platform', url: 'support_url' };
const ROOT_KEYS = ['dev', 'o', 'cmps', 'availability', 'qos'];
const DEVICE_KEYS = ['identifiers', 'name', 'manufacturer', 'model', 'sw_version'];
const ORIGIN_KEYS = ['name', 'sw_version', 'url'];
const COMMON = ['p', 'name', 'unique_id', 'default_entity_id', 'icon', 'entity_category'];
const JSON_ATTRIBUTES = ['json_attributes_topic', 'json_attributes_template'];
const PLATFORM_KEYS: Record<string, string[]> = {
  binary_sensor: [...COMMON, ...JSON_ATTRIBUTES, 'device_class', 'state_topic', 'value_template'],
  sensor: [...COMMON, ...JSON_ATTRIBUTES, 'device_class', 'state_class', 'unit_of_measurement', 'suggested_display_precision', 'state_topic', 'value_template'],
  image: [...COMMON, 'image_topic', 'content_type'],
  switch: [...COMMON, 'state_topic', 'state_on', 'state_off', 'command_topic', 'payload_on', 'payload_off'],
  button: [...COMMON, 'command_topic', 'payload_press'],
  update: [...COMMON, 'state_topic', 'command_topic', 'payload_install'],
};
/** Values Home Assistant accepts for the enumerated options. */
const ENTITY_CATEGORIES = ['config', 'diagnostic'];
const STATE_CLASSES = ['measurement', 'total', 'total_increasing'];
const DEVICE_CLASSES: Record<string, string[]> = { binary_sensor: ['occupancy'], sensor: ['temperature', 'duration'] };

describe('Home Assistant device discovery config', () => {
  const { topic, payload } = deviceDiscovery(input());
  const cmps = payload.cmps as Record<string, Record<string, unknown>>;

  it('is one config on <prefix>/device/<device_id>/config with only documented root keys', () => {
    expect(topic).toBe(DEVICE_TOPIC);
    expect(Object.keys(payload).sort()).toEqual([...ROOT_KEYS].sort());
    expect(payload.qos).toBe(1);
    expect(payload.availability).toEqual([{ topic: `${BASE}/status`, payload_available: 'online', payload_not_available: 'offline' }]);
  });

  it('names the device (dev) and the software that announced it (o: name, sw version, url)', () => {
    expect(payload.dev).toEqual({
      identifiers: ['edge_agent_pi-garage'],
      name: 'edge-agent pi-garage',
      manufacturer: 'edge-agent',
      model: DEVICE.model,
      sw_version: DEVICE.sw_version,
    });
    expect(Object.keys(payload.dev as object).every((k) => DEVICE_KEYS.includes(k))).toBe(true);
    expect(payload.o).toEqual({ name: 'edge-agent', sw_version: '0.1.0', url: DEVICE.url });
    expect(Object.keys(payload.o as object).every((k) => ORIGIN_KEYS.includes(k))).toBe(true);
    const withoutUrl = deviceDiscovery(input({ device: { model: 'm', sw_version: '1.0.0' } })).payload;
    expect(withoutUrl.o).toEqual({ name: 'edge-agent', sw_version: '1.0.0' });
  });

  it('lists every component with its platform, a stable unique_id and a default_entity_id (no object_id)', () => {
    expect(Object.keys(cmps)).toEqual([
      'intrusion',
      'snapshot',
      'frames_dropped',
      'temperature',
      'temperature_forecast',
      'forecast_skill',
      'alarm',
      'alarm_silence',
      'outbox_depth',
      'outbox_oldest_age',
      'inference_time',
      'forecast_error',
      'cpu_temperature',
      'intruder_model',
      'forecast_model',
    ]);
    for (const [id, c] of Object.entries(cmps)) {
      const platform = String(c.p);
      expect(Object.keys(PLATFORM_KEYS), id).toContain(platform);
      const unknown = Object.keys(c).filter((k) => !PLATFORM_KEYS[platform]!.includes(k));
      expect(unknown, `${id}: keys Home Assistant does not document for ${platform}`).toEqual([]);
      expect(c.unique_id).toBe(`edge_agent_pi-garage_${id}`);
      expect(c.default_entity_id).toBe(`${platform}.edge_agent_pi_garage_${id}`);
      expect(c.default_entity_id).toMatch(/^[a-z_]+\.[a-z0-9_]+$/);
      expect(c).not.toHaveProperty('object_id');
      expect(typeof c.name).toBe('string');
      if ('entity_category' in c) expect(ENTITY_CATEGORIES).toContain(c.entity_category);
      if ('state_class' in c) expect(STATE_CLASSES).toContain(c.state_class);
      if ('device_class' in c) expect(DEVICE_CLASSES[platform], id).toContain(c.device_class);
    }
  });

  it('abbreviates only where Home Assistant documents the abbreviation', () => {
    const keys = [...Object.keys(payload), ...Object.keys(payload.dev as object), ...Object.keys(payload.o as object), ...Object.values(cmps).flatMap((c) => Object.keys(c))];
    const documentedFull = new Set([...ROOT_KEYS, ...DEVICE_KEYS, ...ORIGIN_KEYS, ...Object.values(PLATFORM_KEYS).flat(), 'components', 'device', 'origin', 'platform']);
    for (const key of keys) expect(documentedFull.has(key) || key in ABBREVIATIONS, key).toBe(true);
    for (const abbreviated of ['dev', 'o', 'cmps', 'p', 'url']) expect(keys).toContain(abbreviated);
  });

  it('reads each entity from the topic the agent publishes it on', () => {
    expect(cmps.intrusion).toMatchObject({ device_class: 'occupancy', state_topic: `${BASE}/alerts/intruder` });
    expect(cmps.intrusion!.value_template).toContain("value_json.event != 'end'");
    for (const id of ['temperature', 'temperature_forecast']) {
      expect(cmps[id]).toMatchObject({ device_class: 'temperature', unit_of_measurement: '°C', state_class: 'measurement' });
    }
    expect(cmps.temperature).toMatchObject({ state_topic: `${BASE}/telemetry/temperature` });
    expect(cmps.temperature_forecast).toMatchObject({ state_topic: `${BASE}/forecast/temperature`, value_template: '{{ value_json.predicted_celsius }}' });
    expect(cmps.forecast_skill).toMatchObject({ state_topic: `${BASE}/forecast/score`, unit_of_measurement: '%' });
    expect(cmps.snapshot).toMatchObject({ image_topic: `${BASE}/snapshot`, content_type: 'image/jpeg' });
    expect(cmps.alarm).toMatchObject({ state_topic: `${BASE}/alarm`, state_on: 'on', state_off: 'off', command_topic: `${BASE}/cmd/alarm`, payload_on: 'test', payload_off: 'off' });
    expect(cmps.alarm_silence).toMatchObject({ command_topic: `${BASE}/cmd/alarm`, payload_press: 'silence' });
  });

  it('makes the diagnostics diagnostic entities read from <base>/diagnostics', () => {
    const expected: Record<string, string> = {
      outbox_depth: 'value_json.outbox.depth',
      outbox_oldest_age: 'value_json.outbox.oldest_age_s',
      inference_time: 'value_json.last_inference_ms',
      frames_dropped: 'value_json.frames_dropped',
      cpu_temperature: 'value_json.cpu_temperature_c',
      forecast_error: 'value_json.forecast_mae_celsius',
    };
    for (const [id, field] of Object.entries(expected)) {
      expect(cmps[id], id).toMatchObject({ p: 'sensor', entity_category: 'diagnostic', state_topic: `${BASE}/diagnostics` });
      expect(cmps[id]!.value_template).toContain(field);
    }
    expect(cmps.cpu_temperature).toMatchObject({ device_class: 'temperature', unit_of_measurement: '°C' });
    expect(cmps.inference_time).toMatchObject({ device_class: 'duration', unit_of_measurement: 'ms' });
    expect(cmps.frames_dropped).toMatchObject({ state_class: 'total_increasing' });
  });

  it('announces no CPU temperature when it cannot be read, and no camera entities without a camera', () => {
    const bare = deviceDiscovery(input({ cpuTemperature: false, cameras: [] })).payload.cmps as Record<string, unknown>;
    for (const id of ['cpu_temperature', 'intrusion', 'snapshot', 'frames_dropped']) expect(bare).not.toHaveProperty(id);
    expect(bare).toHaveProperty('outbox_depth');
  });

  it('gives each camera of `cameras` ids, names and topics of its own', () => {
    const two = deviceDiscovery(input({ cameras: [{ name: 'front' }, { name: 'back_door' }] })).payload.cmps as Record<string, Record<string, unknown>>;
    expect(two).not.toHaveProperty('intrusion');
    expect(two.back_door_intrusion).toMatchObject({
      unique_id: 'edge_agent_pi-garage_back_door_intrusion',
      name: 'Intrusion (back_door)',
      state_topic: `${BASE}/alerts/intruder/back_door`,
      json_attributes_topic: `${BASE}/alerts/intruder/back_door`,
    });
    expect(two.front_intrusion).toMatchObject({ state_topic: `${BASE}/alerts/intruder/front` });
    expect(two.back_door_snapshot).toMatchObject({ image_topic: `${BASE}/snapshot/back_door` });
    expect(two.front_frames_dropped).toMatchObject({ state_topic: `${BASE}/diagnostics`, value_template: "{{ value_json.frames_dropped_by_camera.get('front', 0) }}" });
  });

  it('offers an update entity per model role, installing through cmd/model-install', () => {
    for (const role of ['intruder', 'forecast']) {
      const c = cmps[`${role}_model`]!;
      expect(c).toMatchObject({ p: 'update', state_topic: `${BASE}/models/${role}/update`, command_topic: `${BASE}/cmd/model-install` });
      expect(JSON.parse(String(c.payload_install))).toEqual({ role });
    }
  });

  it('keeps discovery topics and ids to the characters Home Assistant accepts', () => {
    const odd = deviceDiscovery(input({ deviceId: 'pi.Garage/2', baseTopic: 'edge/pi.Garage/2' }));
    expect(odd.topic).toBe('homeassistant/device/pi_Garage_2/config');
    const c = (odd.payload.cmps as Record<string, Record<string, unknown>>).temperature!;
    expect(c.unique_id).toBe('edge_agent_pi_Garage_2_temperature');
    expect(c.default_entity_id).toBe('sensor.edge_agent_pi_garage_2_temperature');
    expect(c.state_topic).toBe('edge/pi.Garage/2/telemetry/temperature');
  });
});

/** The relay's boundary: what was queued in the outbox, and the subscriptions made. */
function harness(stateFile: string, enabled: boolean, overrides: Partial<HomeAssistantDeps> = {}) {
  const published: OutboxMessage[] = [];
  const handlers = new Map<string, (topic: string, payload: Buffer) => void>();
  const deps: HomeAssistantDeps = {
    config: { device_id: 'pi-garage', homeassistant: { ...defaultConfig().homeassistant, enabled } },
    baseTopic: BASE,
    publish: (messages) => {
      published.push(...messages);
      return true;
    },
    subscribe: (filter, handler) => {
      handlers.set(filter, handler);
      return () => handlers.delete(filter);
    },
    device: DEVICE,
    cameras: [{ name: null }],
    cpuTemperature: false,
    stateFile,
    logger: silentLogger(),
    announceDelayMs: () => 0,
    ...overrides,
  };
  return { published, handlers, service: new HomeAssistantDiscovery(deps) };
}

const OLD_TOPICS = [
  'homeassistant/binary_sensor/pi-garage/intrusion/config',
  'homeassistant/sensor/pi-garage/temperature/config',
  'homeassistant/switch/pi-garage/alarm/config',
];

describe('HomeAssistantDiscovery service', () => {
  let dir: string;
  let stateFile: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ha-'));
    stateFile = join(dir, 'data', 'homeassistant.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('queues the retained device config at start, and again after Home Assistant comes online', async () => {
    let delays = 0;
    const { published, handlers, service } = harness(stateFile, true, { announceDelayMs: () => (delays++, 0) });
    await service.start();
    expect(published.map((m) => [m.topic, m.retain])).toEqual([[DEVICE_TOPIC, true]]);
    expect(service.health()).toMatchObject({ state: 'ok' });
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).topics).toEqual([DEVICE_TOPIC]);

    const onStatus = handlers.get('homeassistant/status')!;
    onStatus('homeassistant/status', Buffer.from('offline'));
    expect(delays).toBe(0);
    onStatus('homeassistant/status', Buffer.from('online'));
    // A second birth while the first announcement waits for its delay adds nothing.
    onStatus('homeassistant/status', Buffer.from('online'));
    await vi.waitFor(() => expect(published).toHaveLength(2), { timeout: 5_000 });
    expect(delays).toBe(1);
    expect(published[1]).toEqual(published[0]);

    await service.stop();
    expect(handlers.size).toBe(0);
  });

  it('waits the random delay before answering a birth message, and drops it when stopped first', async () => {
    const { published, handlers, service } = harness(stateFile, true, { announceDelayMs: () => 60_000 });
    await service.start();
    handlers.get('homeassistant/status')!('homeassistant/status', Buffer.from('online'));
    await nextTurn();
    expect(published).toHaveLength(1);
    await service.stop(); // clears the timer: vitest would report a leaked one otherwise
    expect(published).toHaveLength(1);
  });

  it('migrates per-entity configs: migrate_discovery, then the device config, then empty retained payloads', async () => {
    const stale = 'homeassistant/sensor/old-name/temperature/config';
    writeFileSync(join(dir, 'ha.json'), JSON.stringify({ topics: [...OLD_TOPICS, stale] }));
    const { published, service } = harness(join(dir, 'ha.json'), true);
    await service.start();
    expect(published).toEqual([
      ...OLD_TOPICS.map((topic) => ({ topic, payload: '{"migrate_discovery":true}', retain: true })),
      { topic: DEVICE_TOPIC, payload: expect.any(String), retain: true },
      ...[...OLD_TOPICS, stale].map((topic) => ({ topic, payload: '', retain: true })),
    ]);
    expect(JSON.parse(readFileSync(join(dir, 'ha.json'), 'utf8')).topics).toEqual([DEVICE_TOPIC]);
  });

  it('removes what it published with an empty retained payload once disabled, and only once', async () => {
    const first = harness(stateFile, true);
    await first.service.start();
    await first.service.stop();

    const disabled = harness(stateFile, false);
    await disabled.service.start();
    expect(disabled.published).toEqual([{ topic: DEVICE_TOPIC, payload: '', retain: true }]);
    expect(disabled.handlers.size).toBe(0);

    const again = harness(stateFile, false);
    await again.service.start();
    expect(again.published).toEqual([]);
  });

  it('never publishes under the discovery prefix when discovery was never enabled', async () => {
    const { published, service } = harness(stateFile, false);
    await service.start();
    expect(published).toEqual([]);
    expect(service.health().state).toBe('disabled');
  });

  it('stays up, degraded, when its state file cannot be written', async () => {
    writeFileSync(join(dir, 'file'), 'not a folder');
    const { service } = harness(join(dir, 'file', 'homeassistant.json'), true);
    await service.start();
    expect(service.health()).toMatchObject({ state: 'degraded' });
    expect(String(service.health().detail)).toMatch(/homeassistant\.json/);
  });
});
