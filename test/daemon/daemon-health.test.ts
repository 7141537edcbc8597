/**
 * The daemon's health and watchdog, end to end: `edge-agent run` as systemd runs it (NOTIFY_SOCKET and
 * WATCHDOG_USEC set, systemd-notify a recorder on PATH), with a broker that is away, and with a fake
 * rpicam-vid that stops sending frames forever.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fixture } from '../helpers/fixtures.js';
import { freePort } from '../helpers/mosquitto.js';
import { fakePath } from '../drivers/camera/helpers.js';
import { AgentProcess, AgentSandbox } from '../e2e/agent-process.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

interface Health {
  status: string;
  components: Record<string, { state: string; detail?: string; fed?: number; withheld?: number }>;
}

async function health(port: number): Promise<{ code: number; body: Health }> {
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  return { code: res.status, body: (await res.json()) as Health };
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** The agent under a pretend systemd: a recorder stands in for systemd-notify, the camera fakes are on PATH. */
async function startUnderSystemd(config: (ports: { http: number; broker: number; embedded: number }) => object, env: Record<string, string> = {}) {
  const box = new AgentSandbox();
  cleanup.push(() => box.dispose());
  const bin = await fakePath(['rpicam-vid']);
  cleanup.push(() => bin.cleanup());
  const notifyLog = join(box.dir, 'notify.log');
  const recorder = join(bin.dir, 'systemd-notify');
  writeFileSync(recorder, `#!/bin/sh\necho "$*" >> '${notifyLog}'\n`);
  chmodSync(recorder, 0o755);
  const ports = { http: await freePort(), broker: await freePort(), embedded: await freePort() };
  const agent = AgentProcess.start(['run', '--config', box.writeConfig(config(ports))], {
    ...bin.env({ FAKE_CAMERA_FRAMES: fixture('images/person.jpg'), ...env }),
    PATH: `${bin.dir}:/usr/bin:/bin`,
    NOTIFY_SOCKET: '/run/fake-notify',
    WATCHDOG_USEC: '1000000',
  });
  // SIGTERM: the agent stops its camera, so no fake camera outlives the test.
  cleanup.push(() => agent.stop('SIGTERM'));
  const notified = () => (existsSync(notifyLog) ? readFileSync(notifyLog, 'utf8').trim().split('\n') : []);
  return { agent, ports, notified };
}

const base = (deviceId: string, ports: { http: number; broker: number; embedded: number }) => ({
  device_id: deviceId,
  log_level: 'info',
  // Nothing listens on the configured broker's port; the demo broker must not start either (auto).
  mqtt: { url: `mqtt://127.0.0.1:${ports.broker}`, embedded_broker: { port: ports.embedded } },
  http: { enabled: true, host: '127.0.0.1', port: ports.http },
  sensor: { driver: 'sim', interval_s: 0.2 },
  forecast: { enabled: false },
  alarm: { gpio: null },
});

describe('edge-agent run: health and the systemd watchdog', () => {
  it('with the broker away: /health is 200 "degraded", no embedded broker opens, and the watchdog is fed', async () => {
    const { agent, ports, notified } = await startUnderSystemd((p) => ({ ...base('health-away', p), camera: { driver: 'none' }, watchdog: { stall_s: 30, max_lag_s: 30 } }));
    await agent.waitReady(60_000);
    await vi.waitFor(
      async () => {
        const { code, body } = await health(ports.http);
        expect(code).toBe(200);
        expect(body.status).toBe('degraded');
        expect(body.components.mqtt).toMatchObject({ state: 'degraded', detail: expect.stringMatching(/^not connected to mqtt:\/\/127\.0\.0\.1:\d+: .*message\(s\) waiting$/) });
        expect(body.components.telemetry?.state).toBe('ok');
      },
      { timeout: 60_000, interval: 200 },
    );
    expect(await refused(ports.embedded)).toBe(true);
    expect(notified()[0]).toMatch(/^--pid=\d+ --ready --status=running$/);
    await vi.waitFor(() => expect(notified().filter((l) => l.endsWith('WATCHDOG=1')).length).toBeGreaterThanOrEqual(2), { timeout: 60_000 });
  });

  it('a camera that stops sending frames forever: the watchdog is withheld, systemd sees why, /health is 503', async () => {
    const { agent, ports, notified } = await startUnderSystemd(
      (p) => ({
        ...base('health-wedge', p),
        // The driver's own stall restart is an hour away: nothing moves the pipeline any more.
        camera: { driver: 'rpicam', format: 'mjpeg', width: 640, height: 480, fps: 5, stall_timeout_s: 3600 },
        intruder: { model: fixture('models/yolov8n-int8.onnx'), threads: 1 },
        watchdog: { stall_s: 10, max_lag_s: 30 },
      }),
      { FAKE_CAMERA_PLAN: 'stall:3' },
    );
    await agent.waitReady(60_000);
    // The camera sent its three frames; the pipeline is then idle for good once it took the newest one.
    await vi.waitFor(
      async () => {
        const { code, body } = await health(ports.http);
        expect((body.components.vision as { camera_stats?: { frames?: number } } | undefined)?.camera_stats?.frames).toBe(3);
        expect(code).toBe(503);
        expect(body.components.watchdog).toMatchObject({ state: 'down', detail: expect.stringMatching(/^vision has not advanced/) });
      },
      { timeout: 120_000, interval: 200 },
    );
    await vi.waitFor(() => expect(notified()).toContainEqual(expect.stringMatching(/--status=wedged: vision has not advanced for \d+ s \(at most 10 s\)$/)), {
      timeout: 60_000,
      interval: 200,
    });
    const wedged = await health(ports.http);
    expect(wedged.body.components.telemetry?.state).toBe('ok'); // the other pipeline still runs
    // No ping while it lasts: `fed` stands still while `withheld` grows by three ticks.
    const fed = wedged.body.components.watchdog!.fed;
    const withheld = wedged.body.components.watchdog!.withheld!;
    await vi.waitFor(
      async () => {
        const now = (await health(ports.http)).body.components.watchdog!;
        expect(now.withheld).toBeGreaterThanOrEqual(withheld + 3);
        expect(now.fed).toBe(fed);
      },
      { timeout: 60_000, interval: 200 },
    );
    expect(agent.logs.filter((l) => /^not feeding the watchdog/.test(l.msg)).length).toBeGreaterThanOrEqual(1);
  }, 180_000);
});
