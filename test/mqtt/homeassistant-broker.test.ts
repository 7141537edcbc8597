/**
 * Home Assistant discovery end to end: the real outbox (SqliteStore), the real relay and a real
 * mosquitto. What a Home Assistant connecting later sees is what the broker retained.
 */
import { mkdtempSync, rmSync } from 'node:fs';
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
    stateFile: join(dir, 'homeassistant.json'),
    logger,
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

const configTopics = (messages: { topic: string }[]) => messages.filter((m) => m.topic.endsWith('/config'));

describe('Home Assistant discovery through the broker', () => {
  it('leaves retained configs for a Home Assistant that connects later, republishes on its birth, and removes them when disabled', async () => {
    const agent = await startAgent(true);
    const early = await MqttSubscriber.connect(broker.url, 'homeassistant/#');
    await early.waitFor((m) => configTopics(m).length >= 7, 10_000, 'the 7 discovery configs');

    const late = await MqttSubscriber.connect(broker.url, 'homeassistant/+/pi-ha/+/config');
    await late.waitFor((m) => m.length >= 7, 5_000, 'the retained configs');
    expect(late.messages.every((m) => m.retain)).toBe(true);
    const intrusion = late.json('homeassistant/binary_sensor/pi-ha/intrusion/config')[0]!;
    expect(intrusion).toMatchObject({ unique_id: 'edge_agent_pi-ha_intrusion', state_topic: 'edge/pi-ha/alerts/intruder' });
    expect(intrusion.availability).toEqual([{ topic: 'edge/pi-ha/status', payload_available: 'online', payload_not_available: 'offline' }]);

    // Home Assistant restarts: its birth message makes the agent announce everything again.
    const homeAssistant = await connectAsync(broker.url);
    await homeAssistant.publishAsync('homeassistant/status', 'online', { qos: 1 });
    await early.waitFor((m) => configTopics(m).length >= 14, 10_000, 'the configs announced again');
    await homeAssistant.endAsync();
    await agent.stop();

    const disabled = await startAgent(false);
    await early.waitFor((m) => m.filter((x) => x.payload.length === 0).length >= 7, 10_000, 'all 7 removals');
    await disabled.stop();
    const afterRemoval = await MqttSubscriber.connect(broker.url, 'homeassistant/#');
    // The broker sends what it retained right after the subscription: a message published once it was
    // acknowledged arrives after all of that, so its arrival ends the wait.
    const marker = await connectAsync(broker.url);
    await marker.publishAsync('homeassistant/test/marker', 'after the subscription', { qos: 1 });
    await marker.endAsync();
    await afterRemoval.waitForMessage((m) => m.topic === 'homeassistant/test/marker', 5_000, 'the marker');
    expect(afterRemoval.messages.map((m) => m.topic)).toEqual(['homeassistant/test/marker']);
    await Promise.all([early, late, afterRemoval].map((s) => s.close()));
  });
});
