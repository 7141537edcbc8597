/**
 * Home Assistant discovery end to end: the real outbox (SqliteStore), the real relay and a real
 * mosquitto. What a Home Assistant connecting later sees is what the broker retained.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../agent/config/load.js';
import { HomeAssistantDiscovery } from '../../agent/mqtt/homeassistant.js';
import { silentLogger } from '../../agent/lib/log.js';
import { MqttRelay } from '../../agent/mqtt/relay.js';
import { SqliteStore } from '../../agent/store/store.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { MqttSubscriber } from '../helpers/mqtt-subscriber.js';

let dir: string;
let broker: Mosquitto;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ha-broker-'));
  broker = await Mosquitto.start();
});
afterAll(async () => {
  await broker?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const DEVICE_TOPIC = 'homeassistant/device/pi-ha/config';
/** Per-entity configs as the previous version of the agent published them (retained). */
const OLD_CONFIGS = {
  'homeassistant/binary_sensor/pi-ha/intrusion/config': { unique_id: 'edge_agent_pi-ha_intrusion', name: 'Intrusion' },
  'homeassistant/sensor/pi-ha/temperature/config': { unique_id: 'edge_agent_pi-ha_temperature', name: 'Temperature' },
};
const stateFile = () => join(dir, 'homeassistant.json');

/** The agent's side: store, relay and discovery, as the daemon wires them. */
async function startAgent(enabled: boolean) {
  const logger = silentLogger();
  const config = defaultConfig();
  const store = SqliteStore.open(join(dir, 'edge-agent.db'), { logger, config: config.store });
  const mqtt = { ...config.mqtt, url: broker.url, embedded_broker: { ...config.mqtt.embedded_broker, enabled: false } };
  const relay = new MqttRelay({ store, config: mqtt, deviceId: 'pi-ha', logger });
  const discovery = new HomeAssistantDiscovery({
    config: { device_id: 'pi-ha', homeassistant: { enabled, discovery_prefix: 'homeassistant' } },
    baseTopic: relay.baseTopic,
    publish: (messages) => store.enqueue(messages),
    subscribe: (filter, handler) => relay.subscribe(filter, handler),
    device: { model: 'edge-agent', sw_version: '0.1.0' },
    cameras: [{ name: null }],
    cpuTemperature: false,
    stateFile: stateFile(),
    logger,
    announceDelayMs: () => 50,
  });
  await relay.start();
  await discovery.start();
  return {
    async stop() {
      await discovery.stop();
      await relay.stop();
      store.close();
    },
  };
}

/**
 * What a subscriber connecting now receives under the discovery prefix: the broker sends what it retained
 * right after the subscription, and a marker published once that was acknowledged arrives after all of it.
 */
async function retainedNow(): Promise<{ topic: string; payload: string }[]> {
  const sub = await MqttSubscriber.connect(broker.url, 'homeassistant/#');
  const marker = await connectAsync(broker.url);
  await marker.publishAsync('homeassistant/test/marker', 'after the subscription', { qos: 1 });
  await marker.endAsync();
  await sub.waitForMessage((m) => m.topic === 'homeassistant/test/marker', 5_000, 'the marker');
  await sub.close();
  return sub.messages.filter((m) => m.topic !== 'homeassistant/test/marker').map((m) => ({ topic: m.topic, payload: m.payload.toString() }));
}

describe('Home Assistant discovery through the broker', () => {
  it('migrates the per-entity configs to one retained device config, re-announces on birth, and removes it when disabled', async () => {
    // The previous version's retained configs, and its state file naming them.
    const old = await connectAsync(broker.url);
    for (const [topic, config] of Object.entries(OLD_CONFIGS)) await old.publishAsync(topic, JSON.stringify(config), { qos: 1, retain: true });
    await old.endAsync();
    writeFileSync(stateFile(), JSON.stringify({ topics: Object.keys(OLD_CONFIGS) }));

    const watcher = await MqttSubscriber.connect(broker.url, 'homeassistant/#');
    const agent = await startAgent(true);
    await watcher.waitForMessage((m) => m.topic === DEVICE_TOPIC && m.payload.length > 0, 10_000, 'the device config');
    await watcher.waitFor((m) => m.filter((x) => x.topic in OLD_CONFIGS && x.payload.length === 0).length === 2, 10_000, 'the old topics cleared');
    // Home Assistant sees, in this order: the migration request on each old topic, the device config, the clearing.
    const live = watcher.messages.filter((m) => !m.retain).map((m) => [m.topic, m.payload.toString() === '' ? '(empty)' : m.topic === DEVICE_TOPIC ? '(device config)' : m.payload.toString()]);
    expect(live).toEqual([
      ...Object.keys(OLD_CONFIGS).map((topic) => [topic, '{"migrate_discovery":true}']),
      [DEVICE_TOPIC, '(device config)'],
      ...Object.keys(OLD_CONFIGS).map((topic) => [topic, '(empty)']),
    ]);

    const retained = await retainedNow();
    expect(retained.map((m) => m.topic)).toEqual([DEVICE_TOPIC]);
    const config = JSON.parse(retained[0]!.payload) as Record<string, Record<string, Record<string, unknown>>>;
    expect(config.cmps!.intrusion).toMatchObject({ p: 'binary_sensor', unique_id: 'edge_agent_pi-ha_intrusion', state_topic: 'edge/pi-ha/alerts/intruder' });
    expect(config.cmps!.temperature).toMatchObject({ p: 'sensor', unique_id: 'edge_agent_pi-ha_temperature' });
    expect(config.availability).toEqual([{ topic: 'edge/pi-ha/status', payload_available: 'online', payload_not_available: 'offline' }]);

    // Home Assistant restarts: its birth message makes the agent announce the device again (after its delay).
    const before = watcher.on(DEVICE_TOPIC).length;
    const homeAssistant = await connectAsync(broker.url);
    await homeAssistant.publishAsync('homeassistant/status', 'online', { qos: 1 });
    await watcher.waitFor(() => watcher.on(DEVICE_TOPIC).length > before, 10_000, 'the device config announced again');
    expect(watcher.on(DEVICE_TOPIC).at(-1)!.payload.toString()).toBe(retained[0]!.payload);
    await homeAssistant.endAsync();
    await agent.stop();

    const disabled = await startAgent(false);
    await watcher.waitForMessage((m) => m.topic === DEVICE_TOPIC && m.payload.length === 0, 10_000, 'the device config removed');
    await disabled.stop();
    expect(await retainedNow()).toEqual([]);
    await watcher.close();
  });
});
