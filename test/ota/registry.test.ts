import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelRegistry, RegistryError, type ModelRole } from '../../agent/ota/registry.js';
import { captureLog } from '../helpers/log-capture.js';

let dataDir: string;
let registry: ModelRegistry;
let clock: number;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'ota-registry-'));
  clock = Date.parse('2026-01-01T00:00:00Z');
  registry = new ModelRegistry({ dataDir, keepVersions: 2, now: () => new Date((clock += 1000)) });
});

afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

/** Registry logic does not look inside the file, so small distinct byte strings stand in for models here. */
async function install(role: ModelRole, version: string, content = `model ${role} ${version}`) {
  const temp = await registry.newTempFile();
  writeFileSync(temp, content);
  const sha256 = createHash('sha256').update(content).digest('hex');
  return registry.install(role, temp, { name: `test-${role}`, version, sha256, size: Buffer.byteLength(content), source: 'file:///models/x.onnx' });
}

describe('ModelRegistry', () => {
  it('installs a version with its manifest and activates it through the pointer', async () => {
    const installed = await install('intruder', '1.0.0');
    expect(installed.active).toBe(false);
    expect(readFileSync(installed.path, 'utf8')).toBe('model intruder 1.0.0');
    expect(installed.path).toBe(join(dataDir, 'models', 'intruder', '1.0.0', 'model.onnx'));
    const manifest = JSON.parse(readFileSync(join(dataDir, 'models', 'intruder', '1.0.0', 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: 'test-intruder', version: '1.0.0', size: 20, source: 'file:///models/x.onnx' });
    expect(Date.parse(manifest.installed_at)).toBeGreaterThan(0);
    expect(await registry.activeModelPath('intruder')).toBeNull();

    const active = await registry.activate('intruder', '1.0.0');
    expect(active).toMatchObject({ active: true, previous: [] });
    expect(await registry.activeModelPath('intruder')).toBe(installed.path);
    expect(JSON.parse(readFileSync(join(dataDir, 'models', 'intruder', 'active'), 'utf8')).version).toBe('1.0.0');
    expect(await registry.activeModelPath('forecast')).toBeNull();
  });

  it('lists versions of every role, newest install first, marking the active ones', async () => {
    await install('intruder', '1');
    await install('forecast', 'f1');
    await install('intruder', '2');
    await registry.activate('intruder', '1');
    const listed = (await registry.list()).map((m) => [m.role, m.manifest.version, m.active]);
    expect(listed).toEqual([['intruder', '2', false], ['forecast', 'f1', false], ['intruder', '1', true]]);
    expect((await registry.list('forecast')).map((m) => m.manifest.version)).toEqual(['f1']);
  });

  it('rolls back along the activation history and says when there is nothing left', async () => {
    for (const v of ['1', '2', '3']) {
      await install('intruder', v);
      await registry.activate('intruder', v);
    }
    expect((await registry.active('intruder'))?.previous).toEqual(['2', '1']);
    expect((await registry.rollback('intruder')).manifest.version).toBe('2');
    expect((await registry.rollback('intruder')).manifest.version).toBe('1');
    await expect(registry.rollback('intruder')).rejects.toThrow(new RegistryError('no previous intruder version to roll back to'));
    expect((await registry.active('intruder'))?.manifest.version).toBe('1');
  });

  it('keeps a re-install of the same bytes and refuses other bytes under an installed version', async () => {
    const first = await install('intruder', '1', 'same');
    const again = await install('intruder', '1', 'same');
    expect(again.manifest.installed_at).toBe(first.manifest.installed_at);
    await expect(install('intruder', '1', 'different')).rejects.toThrow(/intruder version 1 is already installed with sha256 [0-9a-f]{64}; give the new file another version/);
    expect(readFileSync(first.path, 'utf8')).toBe('same');
    expect(readdirSync(join(dataDir, 'models', '.tmp'))).toEqual([]);
  });

  it.each(['', '../escape', '.hidden', 'a/b', 'x'.repeat(65), 'v 1'])('refuses the version name %j', async (version) => {
    await expect(install('intruder', version)).rejects.toThrow(/invalid version/);
  });

  it.each(['active', 'Active', 'ACTIVE', 'active.tmp-1-0b7c4f4e-8d55-4a57-9a53-8f6f3c1c2a10'])(
    'refuses the version name %j: it is the pointer file, and the role could never be activated again',
    async (version) => {
      await expect(install('intruder', version)).rejects.toThrow(/is the registry's own pointer file/);
      await install('intruder', '1');
      expect((await registry.activate('intruder', '1')).manifest.version).toBe('1');
    },
  );

  it.each([['a/../b'], ['line\nbreak'], ['nul\u0000byte'], ['x'.repeat(129)], ['']])('refuses the model name %j', async (name) => {
    const temp = await registry.newTempFile();
    writeFileSync(temp, 'bytes');
    const sha256 = createHash('sha256').update('bytes').digest('hex');
    await expect(registry.install('intruder', temp, { name, version: '1', sha256, size: 5, source: 'file:///m.onnx' })).rejects.toThrow(/invalid model name/);
    expect(await registry.list()).toEqual([]);
  });

  it('repairs a role broken by a version installed as "active" (a folder where the pointer goes), and says so', async () => {
    // What an agent that accepted the version name `active` left behind.
    const broken = join(dataDir, 'models', 'forecast', 'active');
    mkdirSync(broken, { recursive: true });
    writeFileSync(join(broken, 'model.onnx'), 'model');
    writeFileSync(join(broken, 'manifest.json'), JSON.stringify({ name: 'm', version: 'active', sha256: 'a'.repeat(64), size: 5, source: 'x', installed_at: 'now' }));
    await install('forecast', '1');
    const log = captureLog('warn');
    const reporting = new ModelRegistry({ dataDir, keepVersions: 2, logger: log.logger });

    expect(await reporting.pointerProblem('forecast')).toMatch(/forecast\/active: it is a folder, not the pointer file$/);
    expect(await reporting.active('forecast')).toBeNull();
    expect(log.matching(/the active forecast model pointer cannot be used \(it is a folder/)).toHaveLength(1);

    await reporting.cleanup();
    expect(log.matching(/removed .*forecast\/active: a forecast model installed under the version name 'active'/)).toHaveLength(1);
    expect(await reporting.pointerProblem('forecast')).toBeNull();
    expect((await reporting.activate('forecast', '1')).manifest.version).toBe('1');
    expect(readdirSync(join(dataDir, 'models', 'forecast')).sort()).toEqual(['1', 'active']);
  });

  it('names what is wrong with a pointer: garbled, or naming a version that is gone', async () => {
    await install('intruder', '1');
    await registry.activate('intruder', '1');
    expect(await registry.pointerProblem('intruder')).toBeNull();
    rmSync(join(dataDir, 'models', 'intruder', '1'), { recursive: true });
    expect(await registry.pointerProblem('intruder')).toMatch(/names version 1, which is not installed/);
    writeFileSync(join(dataDir, 'models', 'intruder', 'active'), '{"vers');
    expect(await registry.pointerProblem('intruder')).toMatch(/intruder\/active: garbled \(/);
    expect(await registry.pointerProblem('forecast')).toBeNull();
  });

  it('refuses to activate a version whose file no longer matches its manifest, keeping the active one', async () => {
    await install('intruder', '1');
    await registry.activate('intruder', '1');
    const damaged = await install('intruder', '2');
    writeFileSync(damaged.path, 'model intruder 2.0'); // same length, other bytes
    await expect(registry.activate('intruder', '2')).rejects.toThrow(/intruder version 2 is damaged on disk/);
    expect((await registry.active('intruder'))?.manifest.version).toBe('1');
    await expect(registry.activate('intruder', '9')).rejects.toThrow('intruder version 9 is not installed');
  });

  it('ignores a pointer to a version whose file is missing or cut short, and a garbled pointer', async () => {
    const installed = await install('intruder', '1');
    await registry.activate('intruder', '1');
    writeFileSync(installed.path, 'short');
    expect(await registry.active('intruder')).toBeNull();
    writeFileSync(join(dataDir, 'models', 'intruder', 'active'), '{"vers');
    expect(await registry.activeModelPath('intruder')).toBeNull();
  });

  it('prunes all but the active version and the configured number of rollback targets', async () => {
    for (const v of ['1', '2', '3', '4']) {
      await install('intruder', v);
      await registry.activate('intruder', v);
    }
    await install('intruder', '5'); // installed, never activated: newest, but not a rollback target
    expect(await registry.prune('intruder')).toEqual(['5', '1']);
    expect((await registry.list('intruder')).map((m) => m.manifest.version).sort()).toEqual(['2', '3', '4']);
    expect((await registry.rollback('intruder')).manifest.version).toBe('3');
  });

  it('removes inactive versions only', async () => {
    await install('forecast', 'a');
    await install('forecast', 'b');
    await registry.activate('forecast', 'a');
    await expect(registry.remove('forecast', 'a')).rejects.toThrow('forecast version a is active; activate another version first');
    await registry.remove('forecast', 'b');
    expect(existsSync(join(dataDir, 'models', 'forecast', 'b'))).toBe(false);
  });

  it('cleans up downloads, staging folders and pointer temp files of dead processes only', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid as number;
    const uuid = '0b7c4f4e-8d55-4a57-9a53-8f6f3c1c2a10';
    const roleDir = join(dataDir, 'models', 'intruder');
    mkdirSync(join(roleDir, `.staging-${dead}-${uuid}`), { recursive: true });
    writeFileSync(join(roleDir, `.staging-${dead}-${uuid}`, 'model.onnx'), 'half');
    writeFileSync(join(roleDir, `active.tmp-${dead}-${uuid}`), '{}');
    const ours = await registry.newTempFile();
    writeFileSync(ours, 'downloading');
    writeFileSync(join(dataDir, 'models', '.tmp', `${dead}-${uuid}.part`), 'abandoned');

    await registry.cleanup();
    expect(readdirSync(roleDir)).toEqual([]);
    expect(readdirSync(join(dataDir, 'models', '.tmp'))).toEqual([ours.split('/').at(-1)]);
  });
});
