/**
 * Several cameras, one agent, end to end: `edge-agent run` with two `dir` cameras under `cameras`, the
 * real YOLOv8n model shared by both, a real mosquitto, and Home Assistant discovery on. Each camera
 * alerts on its own topics with its own snapshot and entities; the one-camera topics stay silent.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PayloadValidator } from '../../agent/mqtt/contract/schemas.js';
import type { IntruderAlertPayload } from '../../agent/mqtt/contract/topics.js';
import { fixture } from '../helpers/fixtures.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { MqttSubscriber } from '../helpers/mqtt-subscriber.js';
import { AgentProcess, AgentSandbox } from './agent-process.js';
import { e2eConfig } from './config.js';

let broker: Mosquitto;
beforeAll(async () => {
  broker = await Mosquitto.start();
});
afterAll(() => broker.dispose());

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('several cameras in one agent', () => {
  it('runs a pipeline per camera on one detector: per-camera alerts, snapshots and Home Assistant entities', async () => {
    const box = new AgentSandbox();
    cleanup.push(() => box.dispose());
    const base = 'edge/e2e-cams';
    const front = box.cameraDir([fixture('images/coffee.png'), fixture('images/person.jpg')], 'front');
    const garage = box.cameraDir([fixture('images/coffee.png'), fixture('images/dog.jpg')], 'garage');
    const { camera: _one, ...config } = e2eConfig({ deviceId: 'e2e-cams', brokerUrl: broker.url });
    const configPath = box.writeConfig({
      ...config,
      cameras: {
        front: { driver: 'dir', dir: front, fps: 4, loop: true },
        garage: { driver: 'dir', dir: garage, fps: 4, loop: true },
      },
      homeassistant: { enabled: true },
    });
    const sub = await MqttSubscriber.connect(broker.url, [`${base}/#`, 'homeassistant/device/e2e-cams/config']);
    cleanup.push(() => sub.close());
    const agent = AgentProcess.start(['run', '--config', configPath]);
    cleanup.push(() => agent.stop('SIGKILL'));
    await agent.waitReady();

    const started = (camera: string) => (m: { topic: string; payload: Buffer }[]) =>
      m.some((x) => x.topic === `${base}/alerts/intruder/${camera}` && x.payload.includes('"event":"start"')) && m.some((x) => x.topic === `${base}/snapshot/${camera}`);
    await sub.waitFor(
      (m) => started('front')(m) && started('garage')(m) && m.some((x) => x.topic === 'homeassistant/device/e2e-cams/config'),
      90_000,
      'an intrusion with its snapshot on each camera, and the discovery config',
    );
    const stopped = await agent.stop('SIGTERM');
    expect(stopped.code).toBe(0);

    const frontAlerts = sub.json<IntruderAlertPayload>(`${base}/alerts/intruder/front`);
    const garageAlerts = sub.json<IntruderAlertPayload>(`${base}/alerts/intruder/garage`);
    expect(new Set(frontAlerts.map((a) => a.camera))).toEqual(new Set(['front']));
    expect(new Set(garageAlerts.map((a) => a.camera))).toEqual(new Set(['garage']));
    expect(frontAlerts.find((a) => a.event === 'start')!.objects.map((o) => o.class)).toContain('person');
    expect(garageAlerts.find((a) => a.event === 'start')!.objects.map((o) => o.class)).toContain('dog');
    // Each camera's events are its own: no event id is shared between the cameras.
    const frontEvents = new Set(frontAlerts.map((a) => a.event_id));
    expect(garageAlerts.filter((a) => frontEvents.has(a.event_id))).toEqual([]);
    // The one-camera topics are not used with `cameras`.
    expect(sub.messages.filter((m) => m.topic === `${base}/alerts/intruder` || m.topic === `${base}/snapshot`)).toEqual([]);
    const contract = new PayloadValidator();
    for (const m of sub.messages.filter((x) => x.topic.startsWith(`${base}/`))) {
      expect(contract.problems(m.topic.slice(base.length + 1), m.payload), `${m.topic}: ${m.payload.toString('utf8', 0, 200)}`).toEqual([]);
    }

    const discovery = sub.json<{ cmps: Record<string, Record<string, unknown>> }>('homeassistant/device/e2e-cams/config').at(-1)!;
    expect(discovery.cmps.front_intrusion).toMatchObject({ p: 'binary_sensor', state_topic: `${base}/alerts/intruder/front` });
    expect(discovery.cmps.garage_intrusion).toMatchObject({ p: 'binary_sensor', state_topic: `${base}/alerts/intruder/garage` });
    expect(discovery.cmps.garage_snapshot).toMatchObject({ p: 'image', image_topic: `${base}/snapshot/garage` });
    expect(discovery.cmps).not.toHaveProperty('intrusion');
    expect(agent.errors()).toEqual([]);
  }, 150_000);
});
