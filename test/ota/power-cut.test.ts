import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashFile } from '../../agent/ota/registry.js';
import { startEdgeAgent, type CliProcess } from '../helpers/cli.js';
import { dogImage, intruderModel, intruderModelPath, OtaHarness, sha256, testLoaders } from './harness.js';

/**
 * The registry's invariant under SIGKILL (what a power cut does to the process): `active` always names a
 * complete, verified version, and the agent's next start serves a working model from it.
 */
const sha = sha256(intruderModel);
let h: OtaHarness;
let config: string;

beforeAll(async () => {
  h = await OtaHarness.start();
  config = join(h.dataDir, 'config.yaml');
  writeFileSync(config, `data_dir: ${h.dataDir}\nintruder:\n  threads: 1\nota:\n  ca: ${h.pki.ca}\n`);
  await h.updater.update({ role: 'intruder', version: '1', url: pathToFileURL(intruderModelPath).href, sha256: sha });
});

afterAll(() => h.close());

function install(version: string, url: string): CliProcess {
  return startEdgeAgent(['models', 'install', 'intruder', url, '--sha256', sha, '--version', version, '--activate', '--config', config]);
}

/** What the daemon does at start: the registry's active model, loaded and run. */
async function activeModelAtRestart(): Promise<{ version: string; classes: string[] }> {
  await h.registry.cleanup();
  const active = await h.registry.active('intruder');
  if (!active) throw new Error('no active intruder model after the kill');
  expect(await hashFile(active.path)).toEqual({ sha256: active.manifest.sha256, size: active.manifest.size });
  const detector = await testLoaders.intruder(active.path, active.manifest);
  try {
    return { version: detector.info.version, classes: (await detector.detect(dogImage)).objects.map((o) => o.class) };
  } finally {
    await detector.close();
  }
}

describe('a process killed in the middle of an update', () => {
  it('during the download: the old model stays active and the partial download is cleaned up', async () => {
    const url = h.server.route('/slow.onnx', { kind: 'file', body: intruderModel, chunkSize: 64 * 1024, chunkDelayMs: 40 });
    const run = install('2', url);
    await run.waitForStderr('downloading...');
    const partial = () => readdirSync(join(h.registry.root, '.tmp')).filter((name) => name.endsWith('.part'));
    // Well into the download (a few chunks on disk, most of the model still to come), then the power goes.
    const downloaded = () => partial().reduce((bytes, name) => bytes + statSync(join(h.registry.root, '.tmp', name)).size, 0);
    await expect.poll(downloaded).toBeGreaterThanOrEqual(4 * 64 * 1024);
    run.child.kill('SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');
    expect(partial()).toHaveLength(1);

    expect(await activeModelAtRestart()).toEqual({ version: '1', classes: ['dog'] });
    expect(partial()).toEqual([]);
    expect(existsSync(join(h.registry.roleDir('intruder'), '2'))).toBe(false);

    // The update can simply be sent again.
    const retry = await install('2', h.serveIntruder('/fast.onnx')).done;
    expect(retry.code, retry.stderr).toBe(0);
    expect(await activeModelAtRestart()).toEqual({ version: '2', classes: ['dog'] });
  });

  it('during the validation: the old model stays active', async () => {
    const run = install('3', h.serveIntruder('/v3.onnx'));
    run.killWhenStderrShows('validating...');
    expect((await run.done).signal).toBe('SIGKILL');
    expect(await activeModelAtRestart()).toEqual({ version: '2', classes: ['dog'] });
  });

  it('during the activation: the old or the new model is active, complete and working', async () => {
    const run = install('4', h.serveIntruder('/v4.onnx'));
    run.killWhenStderrShows('activating...');
    const result = await run.done;
    // The kill lands while the pointer is being switched or just after: either outcome is allowed, nothing in between.
    expect(result.signal === 'SIGKILL' || result.code === 0).toBe(true);
    const after = await activeModelAtRestart();
    expect(['2', '4']).toContain(after.version);
    expect(after.classes).toEqual(['dog']);
    const leftovers = readdirSync(h.registry.roleDir('intruder')).filter((name) => name.startsWith('.') || name.startsWith('active.tmp'));
    expect(leftovers).toEqual([]);
  });
});
