import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openStdoutSocket, type ReadSink } from '../../../drivers/camera/stdout-socket.js';

/** A sink that reads into small buffers of its own (so one write spans many reads) and keeps every byte. */
function collectingSink(readSize: number): ReadSink & { bytes(): Buffer; reads: number } {
  const chunks: Buffer[] = [];
  let current = Buffer.alloc(readSize);
  return {
    reads: 0,
    readBuffer: () => current,
    received(bytes) {
      chunks.push(Buffer.from(current.subarray(0, bytes)));
      current = Buffer.alloc(readSize);
      this.reads++;
    },
    bytes: () => Buffer.concat(chunks),
  };
}

describe('openStdoutSocket', () => {
  let privateTmp: string;
  beforeEach(async () => {
    privateTmp = await mkdtemp(join(tmpdir(), 'stdout-socket-test-'));
    vi.stubEnv('TMPDIR', privateTmp);
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await rm(privateTmp, { recursive: true, force: true });
  });

  it("delivers a real child's stdout, byte for byte, into the sink's memory, then closes when the child exits", async () => {
    const sink = collectingSink(1000);
    const { childEnd, reader } = await openStdoutSocket(sink);
    // The socket may close before the child's 'exit' is seen: listen for both from the start.
    const closed = once(reader, 'close');
    // 300 000 bytes of a pattern whose bytes differ by position, written in one go as a camera does.
    const script = 'const b = Buffer.alloc(300000); for (let i = 0; i < b.length; i++) b[i] = (i * 7 + (i >> 8)) & 255; process.stdout.write(b);';
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', childEnd, 'inherit'] });
    childEnd.destroy();
    const [[code]] = (await Promise.all([once(child, 'exit'), closed])) as [[number], unknown];

    expect(code).toBe(0);
    const got = sink.bytes();
    expect(got.length).toBe(300000);
    for (let i = 0; i < got.length; i++) {
      if (got[i] !== ((i * 7 + (i >> 8)) & 255)) throw new Error(`byte ${i} is ${got[i]}`);
    }
    expect(sink.reads).toBeGreaterThanOrEqual(300);
  });

  it('leaves nothing behind in the temporary directory', async () => {
    const { childEnd, reader } = await openStdoutSocket(collectingSink(64));
    expect(await readdir(privateTmp)).toEqual([]);
    childEnd.destroy();
    reader.destroy();
  });

  it('refuses a TMPDIR too long for a unix socket path, naming TMPDIR, instead of binding a cut-short path', async () => {
    const longTmp = join(privateTmp, 'x'.repeat(100));
    await mkdir(longTmp);
    vi.stubEnv('TMPDIR', longTmp);
    await expect(openStdoutSocket(collectingSink(64))).rejects.toThrow(/longer than a unix socket allows.*TMPDIR/);
    expect(await readdir(longTmp)).toEqual([]);
  });
});
