import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileSyncer, WalSync, type FileSyncer } from '../../agent/store/wal-sync.js';
import { nextTurn } from '../helpers/turn.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'edge-wal-sync-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('fileSyncer', () => {
  it('fsyncs an existing file, and treats a missing one (no WAL yet, or deleted at close) as nothing to sync', async () => {
    const file = join(dir, 'edge.db-wal');
    writeFileSync(file, 'frames');
    await expect(fileSyncer.sync(file)).resolves.toBeUndefined();
    expect(() => fileSyncer.syncNow(file)).not.toThrow();
    await expect(fileSyncer.sync(join(dir, 'missing-wal'))).resolves.toBeUndefined();
    expect(() => fileSyncer.syncNow(join(dir, 'missing-wal'))).not.toThrow();
  });

  it('reports any other failure', async () => {
    writeFileSync(join(dir, 'file'), '');
    const throughAFile = join(dir, 'file', 'edge.db-wal');
    await expect(fileSyncer.sync(throughAFile)).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect(() => fileSyncer.syncNow(throughAFile)).toThrow(/ENOTDIR/);
  });
});

describe('WalSync', () => {
  it('runs one fsync at a time, and requests made meanwhile become exactly one more', async () => {
    const pending: (() => void)[] = [];
    const files: FileSyncer = {
      sync: () => new Promise<void>((resolve) => pending.push(resolve)),
      syncNow: () => {},
    };
    const wal = new WalSync('x-wal', () => expect.fail('no failure expected'), files);
    wal.request();
    wal.request();
    wal.request();
    expect(pending).toHaveLength(1);
    pending[0]!();
    await expect.poll(() => pending.length).toBe(2);
    pending[1]!();
    await nextTurn(); // the second fsync's completion has run: nothing was asked meanwhile, so no third
    expect(pending).toHaveLength(2);
  });
});
