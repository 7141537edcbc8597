/** `edge-agent doctor` as a user runs it: the compiled CLI on this machine, with real models and a real broker. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { edgeAgent } from '../helpers/cli.js';
import { fixture } from '../helpers/fixtures.js';
import { Mosquitto } from '../helpers/mosquitto.js';

const doctor = (...args: string[]) => edgeAgent(['doctor', ...args], { timeoutMs: 60_000 });

let dir: string;
let broker: Mosquitto;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'doctor-cli-'));
  broker = await Mosquitto.start();
});
afterAll(async () => {
  await broker?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(name: string, sensor: string): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    [
      'device_id: doctor-test',
      `data_dir: ${join(dir, 'data')}`,
      `camera: { driver: dir, dir: ${dirname(fixture('images/bus.jpg'))} }`,
      `intruder: { model: ${fixture('models/yolov8n-int8.onnx')} }`,
      `sensor: ${sensor}`,
      `mqtt: { url: '${broker.url}', embedded_broker: { enabled: false } }`,
    ].join('\n') + '\n',
  );
  return file;
}

describe('edge-agent doctor', () => {
  it('prints every check with PASS, WARN or FAIL and exits 0 when the required ones pass', async () => {
    const result = await doctor('--config', writeConfig('good.yaml', '{ driver: sim }'));
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^edge-agent doctor \(.*good\.yaml\)$/);
    for (const title of ['Node.js', 'architecture', 'data folder', 'intruder model', 'forecast model', 'model updates', 'camera', 'sensor', 'alarm GPIO', 'provisioning', 'MQTT broker']) {
      expect(lines.some((l) => new RegExp(`^PASS  ${title}\\s`).test(l)), `${title} passes:\n${result.stdout}`).toBe(true);
    }
    expect(lines.some((l) => /^(PASS|WARN) {2}clock\s/.test(l))).toBe(true);
    expect(result.stdout).toMatch(/^PASS {2}camera +captured a \d+x\d+ JPEG/m);
    expect(result.stdout).toContain(`${broker.url}: connected (plain MQTT on this machine)`);
    expect(lines.at(-2)).toMatch(/^\d+ passed, \d warnings?, 0 failed: the agent can run here$/);
  });

  it('exits 1 with a FAIL line and a hint when a required check fails', async () => {
    const result = await doctor('--config', writeConfig('no-i2c.yaml', '{ driver: mcp9808, bus: 97 }'));
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^FAIL {2}sensor {10}cannot open \/dev\/i2c-97: ENOENT/m);
    expect(result.stdout).toMatch(/^ +hint: enable I2C/m);
    expect(result.stdout).toMatch(/a required check failed$/m);
  });

  it('prints JSON with --json', async () => {
    const result = await doctor('--config', writeConfig('json.yaml', '{ driver: sim }'), '--json');
    const report = JSON.parse(result.stdout) as { ok: boolean; checks: { id: string; status: string; required: boolean }[] };
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.id)).toEqual(['node', 'arch', 'data_dir', 'clock', 'intruder_model', 'forecast_model', 'updates', 'camera', 'sensor', 'gpio', 'provisioning', 'broker']);
  });
});
