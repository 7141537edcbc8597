/**
 * Home Assistant's update entity end to end: a real mosquitto, the OTA service composed as the daemon
 * does (signatures required), an operator's retained announcement on `<base>/models/<role>/available`,
 * and Home Assistant's Install: the discovery config's `payload_install` sent to its `command_topic`.
 */
import { connect, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PayloadValidator } from '../../agent/mqtt/contract/schemas.js';
import type { CommandResponsePayload, ModelUpdatePayload } from '../../agent/mqtt/contract/topics.js';
import { deviceDiscovery } from '../../agent/mqtt/homeassistant-components.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { MqttSubscriber } from '../helpers/mqtt-subscriber.js';
import { DEVICE_ID, TestDevice } from './device.js';
import { intruderModel, OtaHarness, sha256 } from './harness.js';

const contract = new PayloadValidator();
const goodSha = sha256(intruderModel);

let broker: Mosquitto;
let h: OtaHarness;
let device: TestDevice;
let sub: MqttSubscriber;
let operator: MqttClient;

beforeAll(async () => {
  broker = await Mosquitto.start();
  h = await OtaHarness.start();
  device = await TestDevice.start(broker.url, h);
  sub = await MqttSubscriber.connect(broker.url, [`${device.baseTopic}/models/+/update`, `${device.baseTopic}/cmd/model-install/response`]);
  operator = connect(broker.url, { clientId: 'update-entity-operator' });
  await new Promise((resolve) => operator.once('connect', resolve));
});

afterAll(async () => {
  await operator?.endAsync(true);
  await sub?.close();
  await device?.stop();
  await h?.close();
  await broker?.dispose();
});

const states = () => sub.json<ModelUpdatePayload>(`${device.baseTopic}/models/intruder/update`);
const replies = () => sub.json<CommandResponsePayload>(`${device.baseTopic}/cmd/model-install/response`);

/** What Home Assistant was told to send for Install, from the device discovery config. */
function installButton(): { topic: string; payload: string } {
  const { payload } = deviceDiscovery({
    deviceId: DEVICE_ID,
    discoveryPrefix: 'homeassistant',
    baseTopic: device.baseTopic,
    device: { model: 'edge-agent', sw_version: '0.1.0' },
    cameras: [],
    cpuTemperature: false,
  });
  const entity = (payload.cmps as Record<string, Record<string, string>>).intruder_model!;
  expect(entity.state_topic).toBe(`${device.baseTopic}/models/intruder/update`);
  return { topic: entity.command_topic!, payload: entity.payload_install! };
}

async function announce(body: Record<string, unknown>): Promise<void> {
  await operator.publishAsync(`${device.baseTopic}/models/intruder/available`, JSON.stringify(body), { qos: 1, retain: true });
}

async function pressInstall(): Promise<CommandResponsePayload> {
  const seen = replies().length;
  const button = installButton();
  await operator.publishAsync(button.topic, button.payload, { qos: 1 });
  await sub.waitFor(() => replies().length > seen, 30_000, 'the model-install reply');
  return replies()[seen]!;
}

describe('model update entity', () => {
  it('shows the announced version, installs it from Install with its signature, and reports progress on the way', async () => {
    await sub.waitFor(() => states().length > 0, 10_000, 'the first update state');
    expect(states()[0]).toMatchObject({ installed_version: null, latest_version: null, in_progress: false, update_percentage: null });

    const url = h.server.route('/ha/yolov8n-int8.onnx', { kind: 'file', body: intruderModel, chunkSize: 64 * 1024 });
    const signature = h.sign({ role: 'intruder', version: '2', sha256: goodSha });
    await announce({ version: '2', url, sha256: goodSha, signature, summary: 'Fewer false alarms at night.' });
    await sub.waitFor(() => states().some((s) => s.latest_version === '2'), 10_000, 'the announced version');
    expect(states().at(-1)).toMatchObject({ installed_version: null, latest_version: '2', release_summary: 'Fewer false alarms at night.', in_progress: false });

    const reply = await pressInstall();
    expect(reply).toMatchObject({ status: 'ok', data: { role: 'intruder', version: '2' } });
    await sub.waitFor(() => states().at(-1)?.installed_version === '2', 10_000, 'the installed version');
    expect(h.intruderSlot.current()?.info.version).toBe('2');

    const during = states().filter((s) => s.in_progress);
    expect(during.length).toBeGreaterThan(0);
    const percents = during.map((s) => s.update_percentage).filter((p): p is number => p !== null);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.at(-1)).toBe(100);
    expect(percents.length).toBeLessThanOrEqual(12); // every 10 %, not every 64 KB chunk
    expect(states().at(-1)).toMatchObject({ installed_version: '2', latest_version: '2', in_progress: false, update_percentage: null, title: 'yolov8n-int8' });
    for (const s of states()) expect(contract.problems('models/intruder/update', JSON.stringify(s))).toEqual([]);
  });

  it('refuses an unsigned announcement at install, as cmd/model-update would, and says so in the release summary', async () => {
    const url = h.server.route('/ha/unsigned.onnx', { kind: 'file', body: intruderModel });
    await announce({ version: '3', url, sha256: goodSha, summary: 'unsigned' });
    await sub.waitFor(() => states().at(-1)?.latest_version === '3', 10_000, 'the unsigned announcement');

    const reply = await pressInstall();
    expect(reply).toMatchObject({ status: 'error', data: { code: 'signature_missing', role: 'intruder', version: '3' } });
    await sub.waitFor(() => /installing 3 failed/.test(states().at(-1)?.release_summary ?? ''), 10_000, 'the failure in the summary');
    expect(states().at(-1)).toMatchObject({ installed_version: '2', latest_version: '3', in_progress: false });
    expect(h.intruderSlot.current()?.info.version).toBe('2');
  });

  it('ignores a malformed announcement, keeping the last good one, and answers Install without one with an error', async () => {
    const before = states().length;
    await announce({ version: '4', url: 'https://example.org/m.onnx', sha256: 'not-a-sha' });
    await operator.publishAsync(`${device.baseTopic}/models/intruder/available`, '', { qos: 1, retain: true }); // cleared: nothing offered
    await sub.waitFor(() => states().slice(before).some((s) => s.latest_version === '2'), 10_000, 'the cleared announcement');
    expect(states().slice(before).map((s) => s.latest_version)).toEqual(['2']);

    const reply = await pressInstall();
    expect(reply).toMatchObject({ status: 'error', data: { code: 'invalid_request', role: 'intruder' } });
    expect(reply.error).toMatch(/no intruder version is announced/);
  });
});
