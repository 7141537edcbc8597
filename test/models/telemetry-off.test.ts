/**
 * onnxruntime's telemetry stays off in every process of the agent: the daemon and the CLI run here with
 * an empty HOME and TMPDIR and without ORT_DISABLE_TELEMETRY in their environment, as a new user's shell
 * would, and leave nothing behind (no `.cache/Microsoft/DeveloperTools/.onnxruntime`, no `mat-debug-*.log`).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/mosquitto.js';
import { fixture } from '../helpers/fixtures.js';
import { AgentProcess, AgentSandbox } from '../e2e/agent-process.js';
import { edgeAgent } from '../helpers/cli.js';

const scratch: string[] = [];

/** An empty HOME and TMPDIR, and no ORT_DISABLE_TELEMETRY (the variable that would hide the bug; undefined unsets it). */
function cleanEnvironment(): { home: string; tmp: string; env: NodeJS.ProcessEnv } {
  const home = mkdtempSync(join(tmpdir(), 'edge-home-'));
  const tmp = mkdtempSync(join(tmpdir(), 'edge-tmp-'));
  scratch.push(home, tmp);
  return { home, tmp, env: { HOME: home, TMPDIR: tmp, ORT_DISABLE_TELEMETRY: undefined } };
}

/** Every file below `dir`, as paths relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1));
}

afterEach(() => {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('onnxruntime telemetry', () => {
  it('`edge-agent detect` and `forecast` leave nothing in HOME or TMPDIR', async () => {
    const { home, tmp, env } = cleanEnvironment();
    const detect = await edgeAgent(['detect', '--model', fixture('models/yolov8n-int8.onnx'), '--threads', '1', fixture('images/bus.jpg')], { env });
    expect(JSON.parse(detect.stdout)).toMatchObject({ intruder: true });
    expect((await edgeAgent(['forecast', '--values', Array(60).fill('21.5').join(',')], { env })).code).toBe(0);
    expect(filesUnder(home)).toEqual([]);
    expect(filesUnder(tmp)).toEqual([]);
  });

  it('the daemon, with both models loaded and detecting, leaves nothing in HOME or TMPDIR', { timeout: 60_000 }, async () => {
    const { home, tmp, env } = cleanEnvironment();
    const sandbox = new AgentSandbox();
    scratch.push(sandbox.dir);
    const port = await freePort();
    const config = sandbox.writeConfig({
      device_id: 'telemetry-off',
      camera: { driver: 'dir', dir: sandbox.cameraDir([fixture('images/bus.jpg')]), fps: 2, loop: true },
      intruder: { model: fixture('models/yolov8n-int8.onnx'), threads: 1 },
      sensor: { driver: 'sim' },
      mqtt: { url: `mqtt://127.0.0.1:${port}`, embedded_broker: { enabled: true, port } },
      http: { enabled: false },
    });
    const agent = AgentProcess.start(['run', '--config', config], env);
    try {
      await agent.waitForLog((line) => line.msg === 'intrusion start', 40_000, 'an intrusion');
      await agent.waitForLog((line) => line.msg === 'forecast model loaded', 5_000, 'the forecaster');
    } finally {
      await agent.stop();
    }
    expect(filesUnder(home)).toEqual([]);
    expect(filesUnder(tmp)).toEqual([]);
  });
});
