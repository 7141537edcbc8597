import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../agent/config/load.js';
import { packageRoot } from '../../agent/lib/paths.js';

const run = promisify(execFile);

describe('systemd files', () => {
  it('the unit passes systemd-analyze verify', async () => {
    const unit = join(packageRoot(), 'systemd', 'edge-agent.service');
    const { stderr } = await run('systemd-analyze', ['verify', unit]).catch((err: NodeJS.ErrnoException & { stderr?: string }) => {
      if (err.code === 'ENOENT') throw new Error('systemd-analyze is missing: apt-get install systemd');
      throw new Error(`systemd-analyze verify failed: ${err.stderr ?? err.message}`);
    });
    expect(stderr.trim()).toBe('');
  });

  it('the example configuration is valid and turns off the demo broker', () => {
    const config = loadConfig({ file: join(packageRoot(), 'systemd', 'config.example.yaml'), env: {} });
    expect(config.data_dir).toBe('/var/lib/edge-agent');
    expect(config.mqtt.embedded_broker.enabled).toBe(false);
    expect(config.camera.driver).toBe('rpicam');
  });

  it('install.sh is valid bash, prints its usage and names an unknown option', async () => {
    const script = join(packageRoot(), 'scripts', 'install.sh');
    await run('bash', ['-n', script]);
    expect((await run('bash', [script, '--help'])).stdout).toMatch(/^Installs edge-agent as a systemd service.*\n[\s\S]*Usage: sudo scripts\/install.sh \[--prefix DIR\] \[--no-start\]/);
    await expect(run('bash', [script, '--frobnicate'])).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('install.sh: unknown option --frobnicate') });
  });
});
