/**
 * Creates a folder and its missing parents one level at a time. Node's recursive mkdir never ends where
 * the kernel answers ENOENT for a folder whose parent exists (procfs: `mkdir -p /proc/1/x`): mkdirSync then
 * spins the event loop at 100 % CPU, deaf to SIGTERM. Here each missing level is tried once, so a folder
 * that cannot be made is an error, never a hang.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export function makeDirSync(path: string): void {
  const missing: string[] = [];
  for (let dir = resolve(path); !existsSync(dir); dir = dirname(dir)) {
    missing.push(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir);
    } catch (err) {
      // Made meanwhile by someone else: fine; anything else is the answer.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}
