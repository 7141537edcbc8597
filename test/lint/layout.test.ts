/**
 * The house rules of the source tree: the layer rule itself (the ESLint run in `npm test` applies it to
 * every import), the product card's top level, files a reader can hold in their head, and a README
 * folder map that matches the tree.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../agent/lib/paths.js';
import { layerViolation } from '../../scripts/lint/layers.js';

const root = packageRoot();
const tracked = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).trim().split('\n');

describe('the layer rule', () => {
  it('lets imports point down only', () => {
    expect(layerViolation('agent/daemon/agent.ts', 'agent/store/store.ts')).toBeNull();
    expect(layerViolation('agent/daemon/agent.ts', 'drivers/camera/index.js')).toBeNull();
    expect(layerViolation('drivers/camera/rpicam.ts', 'agent/lib/backoff.js')).toBeNull();
    expect(layerViolation('models/forecast.ts', 'agent/lib/paths.js')).toBeNull();
    expect(layerViolation('agent/cli.ts', 'agent/commands/run.js')).toBeNull();
    expect(layerViolation('agent/commands/run.ts', 'agent/commands/args.js')).toBeNull();
    expect(layerViolation('scripts/bench/agent.ts', 'agent/commands/run.js')).toBeNull();
    expect(layerViolation('test/daemon/agent.test.ts', 'drivers/camera/rpicam.js')).toBeNull();
  });

  it('names the rule an import breaks', () => {
    expect(layerViolation('agent/lib/log.ts', 'agent/config/types.js')).toMatch(/^agent\/lib\/ imports nothing of the project/);
    expect(layerViolation('drivers/camera/dir.ts', 'agent/config/types.js')).toMatch(/^drivers\/ may import only drivers\/ and agent\/lib\//);
    expect(layerViolation('models/intruder.ts', 'drivers/camera/index.js')).toMatch(/^models\/ may import only models\/ and agent\/lib\//);
    expect(layerViolation('agent/doctor/hardware.ts', 'drivers/camera/rpicam.js')).toMatch(/through its index\.ts/);
    expect(layerViolation('agent/daemon/run.ts', 'agent/commands/run.js')).toMatch(/^only agent\/cli\.ts imports agent\/commands\//);
    expect(layerViolation('agent/daemon/run.ts', 'test/helpers/fixtures.js')).toMatch(/cannot import test\/helpers\/fixtures\.js/);
  });
});

describe('the source tree', () => {
  it("keeps the product card's top level", () => {
    const allowed = new Set(['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'eslint.config.js', 'vitest.config.ts', 'agent', 'drivers', 'models', 'systemd', 'scripts', 'test', 'README.md', 'docs', 'LICENSE']);
    const top = [...new Set(tracked.map((f) => f.split('/')[0]!))].filter((name) => !name.startsWith('.'));
    expect(top.filter((name) => !allowed.has(name))).toEqual([]);
  });

  it('keeps every source file under 400 lines', () => {
    const long = tracked
      .filter((f) => /^(agent|drivers|models)\/.*\.ts$/.test(f))
      .map((f) => ({ file: f, lines: readFileSync(join(root, f), 'utf8').split('\n').length }))
      .filter((f) => f.lines > 400);
    expect(long).toEqual([]);
  });

  it("matches the README's folder map: every agent/ folder is described, every described folder exists", () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const architecture = readme.slice(readme.indexOf('## Architecture'), readme.indexOf('\n## ', readme.indexOf('## Architecture') + 1));
    const described = new Set([...architecture.matchAll(/`((?:agent|drivers|models|scripts|test)\/[a-z0-9/-]*?)\/?`/g)].map((m) => m[1]!.replace(/\/$/, '')));
    const folders = readdirSync(join(root, 'agent')).filter((name) => statSync(join(root, 'agent', name)).isDirectory()).map((name) => `agent/${name}`);
    expect(folders.filter((folder) => !described.has(folder))).toEqual([]);
    const missing = [...described].filter((path) => !tracked.some((f) => f === path || f.startsWith(`${path}/`)));
    expect(missing).toEqual([]);
  });
});
