import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root (the folder holding package.json), found from this file's location so that it is
 * the same whether the code runs from `dist/` after `tsc` or from source under vitest. A function, not a
 * value computed at import: the walk up the file system can fail, and then it fails the caller that
 * needs the root, with its message, not every module that happens to import this one.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('edge-agent: cannot find package.json above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

/** Files shipped in the package's models/ folder (the forecaster, model cards). */
export function shippedModelPath(fileName: string): string {
  return join(packageRoot(), 'models', fileName);
}
