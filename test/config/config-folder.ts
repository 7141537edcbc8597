import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';

/**
 * A fresh folder for each test's configuration files, removed after it (registers the hooks, so call it
 * at the top of a test file): `path()` is the folder, `write(name, text)` writes a file there and
 * returns its path.
 */
export function configFolder(): { path: () => string; write: (name: string, text: string) => string } {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'edge-config-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    path: () => dir,
    write: (name, text) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
  };
}
