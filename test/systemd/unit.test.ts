import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

  it("rates the unit's exposure at most 2.5 (systemd-analyze security) and still lets it reach the Pi's camera, I2C and GPIO", async () => {
    const unit = join(packageRoot(), 'systemd', 'edge-agent.service');
    const { stdout } = await run('systemd-analyze', ['security', '--offline=true', '--no-pager', unit]).catch((err: NodeJS.ErrnoException & { stderr?: string }) => {
      throw new Error(`systemd-analyze security failed: ${err.stderr ?? err.message}`);
    });
    const exposure = Number(/Overall exposure level for edge-agent\.service: ([\d.]+)/.exec(stdout)?.[1]);
    expect(exposure, stdout).toBeLessThanOrEqual(2.5);
    const text = readFileSync(unit, 'utf8');
    for (const device of ['video4linux', 'media', 'dma_heap', 'i2c', 'gpiochip']) expect(text).toMatch(new RegExp(`^DeviceAllow=char-${device} rw$`, 'm'));
    // /sys stays writable for the alarm's sysfs GPIO, and /proc/cpuinfo visible for onnxruntime.
    expect(text).not.toMatch(/^ProtectKernelTunables=yes/m);
    expect(text).not.toMatch(/^ProcSubset=pid/m);
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
