import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../agent/config/load.js';
import { isAwsIot } from '../../agent/mqtt/client-options.js';
import { problemsOf } from './problems.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'edge-config-'));
  writeFileSync(join(dir, 'claim.crt'), 'x');
  writeFileSync(join(dir, 'claim.key'), 'x');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function yaml(text: string): string {
  const path = join(dir, 'config.yaml');
  writeFileSync(path, text);
  return path;
}

const provisioning = (url: string, extra = '') =>
  `mqtt:\n  url: ${url}\n  aws_iot:\n    provisioning:\n      template: edge-fleet\n      claim_cert: claim.crt\n      claim_key: claim.key\n${extra}`;

describe('mqtt.aws_iot.provisioning', () => {
  it('turns on the AWS IoT profile without a certificate of its own: prefix things, claim paths resolved', () => {
    const config = loadConfig({ file: yaml(provisioning('mqtts://iot.example:8883', '      parameters: [SerialNumber=42]\n')), env: {} });
    expect(isAwsIot(config.mqtt)).toBe(true);
    expect(config.mqtt.prefix).toBe('things');
    expect(config.mqtt.aws_iot.provisioning).toEqual({ template: 'edge-fleet', claim_cert: join(dir, 'claim.crt'), claim_key: join(dir, 'claim.key'), parameters: ['SerialNumber=42'] });
  });

  it('is off by default', () => {
    const config = loadConfig({ env: {} });
    expect(config.mqtt.aws_iot.provisioning.template).toBeNull();
    expect(isAwsIot(config.mqtt)).toBe(false);
  });

  it('names the key of each problem: plain URL, template name, missing claim key file, a parameter without =', () => {
    const file = yaml(
      `mqtt:\n  url: mqtt://iot.example:1883\n  aws_iot:\n    provisioning:\n      template: "bad name!"\n      claim_cert: claim.crt\n      claim_key: missing.key\n      parameters: [SerialNumber]\n`,
    );
    const problems = problemsOf(() => loadConfig({ file, env: {} }));
    expect(problems.map((p) => p.path).sort()).toEqual([
      'mqtt.aws_iot.provisioning.claim_key',
      'mqtt.aws_iot.provisioning.parameters[0]',
      'mqtt.aws_iot.provisioning.template',
      'mqtt.url',
    ]);
    expect(problems.find((p) => p.path === 'mqtt.url')!.message).toMatch(/must be mqtts:\/\//);
  });

  it('wants both claim files', () => {
    const file = yaml('mqtt:\n  url: mqtts://iot.example:8883\n  aws_iot:\n    provisioning:\n      template: edge-fleet\n');
    expect(problemsOf(() => loadConfig({ file, env: {} })).map((p) => p.path).sort()).toEqual(['mqtt.aws_iot.provisioning.claim_cert', 'mqtt.aws_iot.provisioning.claim_key']);
  });
});
