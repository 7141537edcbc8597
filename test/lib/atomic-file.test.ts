import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic, writeFileDurably } from '../../agent/lib/atomic-file.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edge-atomic-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('creates or replaces the file, and leaves no temporary file behind', async () => {
    const file = join(dir, 'state.json');
    await writeFileAtomic(file, '{"topics":[]}\n');
    expect(readFileSync(file, 'utf8')).toBe('{"topics":[]}\n');
    await writeFileAtomic(file, Buffer.from([0xff, 0xd8]));
    expect(readFileSync(file)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('writes through the temporary file it is given, and refuses one that exists (another writer owns it)', async () => {
    const file = join(dir, 'active');
    const temp = join(dir, 'active.tmp-1-abc');
    await writeFileAtomic(file, 'v1\n', temp);
    expect(readFileSync(file, 'utf8')).toBe('v1\n');
    expect(existsSync(temp)).toBe(false);
    writeFileSync(temp, 'someone else is writing');
    await expect(writeFileAtomic(file, 'v2\n', temp)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(file, 'utf8')).toBe('v1\n');
  });

  it('removes its temporary file when the rename fails, and leaves the target as it was', async () => {
    // A folder where the file should go: the rename fails after the temporary file was written.
    const target = join(dir, 'snapshot.jpg');
    mkdirSync(target);
    await expect(writeFileAtomic(target, 'jpeg')).rejects.toMatchObject({ code: expect.stringMatching(/^(EISDIR|EEXIST|ENOTEMPTY)$/) });
    expect(readdirSync(dir)).toEqual(['snapshot.jpg']);
    expect(readdirSync(target)).toEqual([]);
  });
});

describe('writeFileDurably', () => {
  it('writes a new file and refuses to overwrite one', async () => {
    const file = join(dir, 'manifest.json');
    await writeFileDurably(file, '{}');
    expect(readFileSync(file, 'utf8')).toBe('{}');
    await expect(writeFileDurably(file, '{"x":1}')).rejects.toMatchObject({ code: 'EEXIST' });
  });
});
