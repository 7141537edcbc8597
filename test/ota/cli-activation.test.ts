/**
 * A running daemon serves a model activated with the CLI (`edge-agent models install ... --activate`),
 * validated and hot-swapped as over MQTT; a pointer to a model that fails validation leaves the pipeline
 * serving what it had.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { freePort } from '../helpers/mosquitto.js';
import { AgentProcess, AgentSandbox } from '../e2e/agent-process.js';
import { edgeAgent } from '../helpers/cli.js';
import { sha256 } from './harness.js';
import { averagingModel, FORECAST_CONTRACT } from './tiny-models.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function servedForecaster(port: number): Promise<{ name: string; version: string } | null> {
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  return ((await res.json()) as { models: { forecast: { name: string; version: string } | null } }).models.forecast;
}

describe('a model activated with the CLI while the daemon runs', () => {
  it('is validated and served without a restart; a pointer to a broken model is refused and the old one stays', async () => {
    const box = new AgentSandbox();
    cleanup.push(() => box.dispose());
    const http = await freePort();
    const config = box.writeConfig({
      device_id: 'cli-activation',
      log_level: 'info',
      camera: { driver: 'none' },
      sensor: { driver: 'sim', interval_s: 1 },
      mqtt: { url: `mqtt://127.0.0.1:${await freePort()}` },
      http: { enabled: true, host: '127.0.0.1', port: http },
    });
    const agent = AgentProcess.start(['run', '--config', config]);
    cleanup.push(() => agent.stop('SIGKILL'));
    await agent.waitReady(60_000);
    await vi.waitFor(async () => expect(await servedForecaster(http)).toMatchObject({ name: 'temperature-forecast' }), { timeout: 60_000 });

    const modelFile = join(box.dir, 'average.onnx');
    const model = averagingModel({ ...FORECAST_CONTRACT, name: 'average' });
    writeFileSync(modelFile, model);
    const installed = await edgeAgent(['models', 'install', 'forecast', modelFile, '--sha256', sha256(model), '--version', '2.0.0', '--activate', '--config', config]);
    expect(installed, installed.stderr).toMatchObject({ code: 0 });
    await vi.waitFor(async () => expect(await servedForecaster(http)).toEqual({ name: 'average', version: '2.0.0' }), { timeout: 60_000, interval: 250 });
    expect(agent.logs.find((l) => l.msg === 'activated forecast model average 2.0.0')).toMatchObject({ swapped: true });

    // Version 3.0.0 installed, then its file damaged (same size) and the pointer written by hand.
    const broken = averagingModel({ ...FORECAST_CONTRACT, name: 'average' }, 1.01);
    writeFileSync(modelFile, broken);
    const third = await edgeAgent(['models', 'install', 'forecast', modelFile, '--sha256', sha256(broken), '--version', '3.0.0', '--config', config]);
    expect(third, third.stderr).toMatchObject({ code: 0 });
    const roleDir = join(box.dataDir, 'models', 'forecast');
    writeFileSync(join(roleDir, '3.0.0', 'model.onnx'), Buffer.alloc(broken.length));
    writeFileSync(join(roleDir, 'active'), JSON.stringify({ version: '3.0.0', activated_at: new Date().toISOString(), previous: ['2.0.0'] }));
    await agent.waitForLog((l) => /^the forecast model activated on disk was not served: /.test(l.msg), 60_000, 'the refusal of the broken model');
    expect(await servedForecaster(http)).toEqual({ name: 'average', version: '2.0.0' });
    expect(agent.running).toBe(true);
  });
});
