import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRegularFile, InputFileError, readRegularFile, readRegularFileSync } from '../../agent/lib/input-file.js';

let dir: string;
let fifo: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'input-file-'));
  fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('reading files by name, bounded', () => {
  it('reads a regular file up to its limit', async () => {
    const path = join(dir, 'ten');
    writeFileSync(path, '0123456789');
    expect((await readRegularFile(path, 10)).toString()).toBe('0123456789');
    expect(readRegularFileSync(path, 10).toString()).toBe('0123456789');
    await expect(readRegularFile(path, 9)).rejects.toThrow(new InputFileError(path, 'is 10 bytes, over the limit of 9'));
    expect(() => readRegularFileSync(path, 9)).toThrow(`${path} is 10 bytes, over the limit of 9`);
    await expect(checkRegularFile(path)).resolves.toBeUndefined();
  });

  it('refuses a device, a FIFO without a writer and a folder at once, without reading or blocking', async () => {
    const cases: [string, string][] = [
      ['/dev/zero', 'is a character device, not a regular file'],
      [fifo, 'is a FIFO, not a regular file'],
      [dir, 'is a folder, not a regular file'],
    ];
    for (const [path, reason] of cases) {
      await expect(readRegularFile(path, 1024)).rejects.toThrow(new InputFileError(path, reason));
      expect(() => readRegularFileSync(path, 1024)).toThrow(`${path} ${reason}`);
      await expect(checkRegularFile(path)).rejects.toThrow(`${path} ${reason}`);
    }
  });

  it('passes Node\'s own error for a missing file', async () => {
    await expect(readRegularFile(join(dir, 'missing'), 10)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
