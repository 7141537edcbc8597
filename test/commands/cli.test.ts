import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../agent/lib/paths.js';

const run = promisify(execFile);
const cli = join(packageRoot(), 'dist', 'agent', 'cli.js');

async function edgeAgent(...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('edge-agent CLI', () => {
  it('lists its commands and exits 2 when none is given', async () => {
    const result = await edgeAgent();
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/usage: edge-agent <command>/);
    for (const name of ['run', 'detect', 'forecast', 'capture', 'sensor', 'models', 'doctor']) {
      expect(result.stdout).toContain(`  ${name}`);
    }
  });

  it('rejects an unknown command with exit status 2 and one line naming it', async () => {
    const result = await edgeAgent('frobnicate');
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe("edge-agent: unknown command 'frobnicate'");
  });
});
