import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../agent/config/load.js';
import type { OutboxMessage } from '../../agent/store/types.js';
import { discoveryConfigs, HomeAssistantDiscovery, type HomeAssistantDeps } from '../../agent/mqtt/homeassistant.js';
import { silentLogger } from '../../agent/lib/log.js';

const BASE = 'edge/pi-garage';
const DEVICE = { model: 'Raspberry Pi 5 Model B Rev 1.0', sw_version: '0.1.0' };

function config(enabled: boolean, deviceId = 'pi-garage') {
  const c = defaultConfig();
  return { device_id: deviceId, homeassistant: { ...c.homeassistant, enabled } };
}

/** The relay's boundary: what was queued in the outbox, and the subscriptions made. */
function harness(stateFile: string, enabled: boolean) {
  const published: OutboxMessage[] = [];
  const handlers = new Map<string, (topic: string, payload: Buffer) => void>();
  const deps: HomeAssistantDeps = {
    config: config(enabled),
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
    stateFile,
    logger: silentLogger(),
  };
  return { published, handlers, service: new HomeAssistantDiscovery(deps) };
}

const json = (m: OutboxMessage) => JSON.parse(String(m.payload)) as Record<string, unknown>;

describe('Home Assistant discovery payloads', () => {
  const configs = discoveryConfigs({ config: config(true), baseTopic: BASE, device: DEVICE });
  const byId = Object.fromEntries(configs.map((c) => [c.object_id, c]));

  it('announces the documented entities under <prefix>/<component>/<device_id>/<object_id>/config', () => {
    expect(configs.map((c) => c.topic)).toEqual([
      'homeassistant/binary_sensor/pi-garage/intrusion/config',
      'homeassistant/sensor/pi-garage/temperature/config',
      'homeassistant/sensor/pi-garage/temperature_forecast/config',
      'homeassistant/sensor/pi-garage/forecast_skill/config',
      'homeassistant/image/pi-garage/snapshot/config',
      'homeassistant/switch/pi-garage/alarm/config',
      'homeassistant/button/pi-garage/alarm_silence/config',
    ]);
  });

  it('gives every entity a stable unique_id, the device block and availability on <base>/status', () => {
    for (const c of configs) {
      expect(c.payload.unique_id).toBe(`edge_agent_pi-garage_${c.object_id}`);
      expect(c.payload.device).toEqual({
        identifiers: ['edge_agent_pi-garage'],
        name: 'edge-agent pi-garage',
        manufacturer: 'edge-agent',
        model: DEVICE.model,
        sw_version: DEVICE.sw_version,
      });
      expect(c.payload.availability).toEqual([{ topic: `${BASE}/status`, payload_available: 'online', payload_not_available: 'offline' }]);
      expect(typeof c.payload.name).toBe('string');
    }
    const again = discoveryConfigs({ config: config(true), baseTopic: BASE, device: { ...DEVICE, sw_version: '9.9.9' } });
    expect(again.map((c) => c.payload.unique_id)).toEqual(configs.map((c) => c.payload.unique_id));
  });

  it('reads each entity from the topic the agent publishes it on', () => {
    expect(byId.intrusion!.payload).toMatchObject({ device_class: 'occupancy', state_topic: `${BASE}/alerts/intruder` });
    expect(byId.intrusion!.payload.value_template).toContain("value_json.event != 'end'");
    for (const id of ['temperature', 'temperature_forecast']) {
      expect(byId[id]!.payload).toMatchObject({ device_class: 'temperature', unit_of_measurement: '°C', state_class: 'measurement' });
    }
    expect(byId.temperature!.payload).toMatchObject({ state_topic: `${BASE}/telemetry/temperature` });
    expect(byId.temperature!.payload.value_template).toContain('value_json.celsius');
    expect(byId.temperature_forecast!.payload).toMatchObject({ state_topic: `${BASE}/forecast/temperature`, value_template: '{{ value_json.predicted_celsius }}' });
    expect(byId.forecast_skill!.payload).toMatchObject({ state_topic: `${BASE}/forecast/score`, unit_of_measurement: '%', json_attributes_topic: `${BASE}/forecast/score` });
    expect(byId.forecast_skill!.payload.value_template).toContain('value_json.last_24h.skill * 100');
    expect(byId.snapshot!.payload).toMatchObject({ image_topic: `${BASE}/snapshot`, content_type: 'image/jpeg' });
    expect(byId.alarm!.payload).toMatchObject({
      state_topic: `${BASE}/alarm`,
      state_on: 'on',
      state_off: 'off',
      command_topic: `${BASE}/cmd/alarm`,
      payload_on: 'test',
      payload_off: 'off',
    });
    expect(byId.alarm_silence!.payload).toMatchObject({ command_topic: `${BASE}/cmd/alarm`, payload_press: 'silence' });
  });

  it('keeps discovery topics to the characters Home Assistant accepts', () => {
    const odd = discoveryConfigs({ config: config(true, 'pi.garage/2'), baseTopic: 'edge/pi.garage/2', device: DEVICE });
    expect(odd[0]!.topic).toBe('homeassistant/binary_sensor/pi_garage_2/intrusion/config');
    expect(odd[0]!.payload.unique_id).toBe('edge_agent_pi_garage_2_intrusion');
    expect(odd[0]!.payload.state_topic).toBe('edge/pi.garage/2/alerts/intruder');
  });
});

describe('HomeAssistantDiscovery service', () => {
  let dir: string;
  let stateFile: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ha-'));
    stateFile = join(dir, 'data', 'homeassistant.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('queues retained configs at start and again whenever Home Assistant comes online', async () => {
    const { published, handlers, service } = harness(stateFile, true);
    await service.start();
    expect(published).toHaveLength(7);
    expect(published.every((m) => m.retain === true)).toBe(true);
    expect(json(published[0]!).unique_id).toBe('edge_agent_pi-garage_intrusion');
    expect(service.health()).toEqual({ state: 'ok', entities: 7 });
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).topics).toHaveLength(7);

    const onStatus = handlers.get('homeassistant/status');
    expect(onStatus).toBeDefined();
    onStatus!('homeassistant/status', Buffer.from('offline'));
    expect(published).toHaveLength(7);
    onStatus!('homeassistant/status', Buffer.from('online'));
    expect(published).toHaveLength(14);
    expect(published.slice(7).map((m) => m.topic)).toEqual(published.slice(0, 7).map((m) => m.topic));

    await service.stop();
    expect(handlers.size).toBe(0);
  });

  it('removes what it published with empty retained payloads once disabled, and only once', async () => {
    const first = harness(stateFile, true);
    await first.service.start();
    await first.service.stop();
    const topics = first.published.map((m) => m.topic);

    const disabled = harness(stateFile, false);
    await disabled.service.start();
    expect(disabled.published).toEqual(topics.map((topic) => ({ topic, payload: '', retain: true })));
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

  it('removes entities of an older configuration that the current one no longer has', async () => {
    const stale = 'homeassistant/sensor/old-name/temperature/config';
    writeFileSync(join(dir, 'homeassistant.json'), JSON.stringify({ topics: [stale] }));
    const { published, service } = harness(join(dir, 'homeassistant.json'), true);
    await service.start();
    expect(published[0]).toEqual({ topic: stale, payload: '', retain: true });
    expect(published.slice(1)).toHaveLength(7);
  });

  it('stays up, degraded, when its state file cannot be written', async () => {
    writeFileSync(join(dir, 'file'), 'not a folder');
    const { service } = harness(join(dir, 'file', 'homeassistant.json'), true);
    await service.start();
    expect(service.health()).toMatchObject({ state: 'degraded' });
    expect(String(service.health().detail)).toMatch(/homeassistant\.json/);
  });
});
