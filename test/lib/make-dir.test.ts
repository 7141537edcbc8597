import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { makeDirSync } from '../../agent/lib/make-dir.js';
import { packageRoot } from '../../agent/lib/paths.js';

describe('makeDirSync', () => {
  it('creates missing parents, and accepts a folder that exists', () => {
    const dir = mkdtempSync(join(tmpdir(), 'make-dir-'));
    try {
      makeDirSync(join(dir, 'a', 'b', 'c'));
      expect(existsSync(join(dir, 'a', 'b', 'c'))).toBe(true);
      makeDirSync(join(dir, 'a', 'b'));
      writeFileSync(join(dir, 'file'), 'x');
      expect(() => makeDirSync(join(dir, 'file', 'sub'))).toThrow(/ENOTDIR/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails at once under /proc, where a recursive mkdir spins for ever (run in a child: a spin would hang this worker)', () => {
    const module = pathToFileURL(join(packageRoot(), 'dist', 'agent', 'lib', 'make-dir.js')).href;
    const script = `import(${JSON.stringify(module)}).then(({ makeDirSync }) => { try { makeDirSync('/proc/1/nope/data'); console.log('made'); } catch (err) { console.log(err.code); } })`;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(child.signal, 'killed by the timeout: it spun').toBeNull();
    expect(child.stdout.trim()).toBe('ENOENT');
  });
});
