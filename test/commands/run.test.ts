/**
 * `edge-agent run` against configurations that used to hang it or crash it: each now ends at once with
 * exit status 78 and the key (or the file and line) at fault, instead of spinning beyond SIGTERM
 * (a data folder on procfs), blocking for ever (a FIFO as the configuration) or exiting 70 (an alias bomb).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { edgeAgent } from '../helpers/cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'run-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Generous on a loaded machine; the old behaviour never ended at all. */
const run = (...args: string[]) => edgeAgent(['run', ...args], { timeoutMs: 60_000 });

describe('edge-agent run refuses what used to hang it', () => {
  it('a data folder under /proc: 78 naming data_dir, not a spin that ignores SIGTERM', async () => {
    const result = await run('--data-dir', '/proc/1/nope');
    expect(result.code, result.stderr).toBe(78);
    expect(result.stderr).toContain('data_dir: /proc/1/nope is on proc, a virtual filesystem of the kernel');
  });

  it('a FIFO as the configuration file: 78, not a read that never ends', async () => {
    const fifo = join(dir, 'config.fifo');
    execFileSync('mkfifo', [fifo]);
    const result = await run('--config', fifo);
    expect(result.code, result.stderr).toBe(78);
    expect(result.stderr).toContain(`${fifo} is a FIFO, not a regular file`);
  });

  it('a YAML alias bomb: 78 with its file and line, not an internal error (70)', async () => {
    const lines = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (const [prev, name] of [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'e'], ['e', 'f'], ['f', 'g'], ['g', 'h'], ['h', 'i']]) {
      lines.push(`${name}: &${name} [${new Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    const bomb = join(dir, 'laughs.yaml');
    writeFileSync(bomb, lines.join('\n') + '\n');
    const result = await run('--config', bomb);
    expect(result.code, result.stderr).toBe(78);
    expect(result.stderr).toContain('its YAML aliases expand too much (over 100): refused as a resource exhaustion attack [laughs.yaml:2]');
  });
});
