import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../agent/config/load.js';
import { isAwsIot } from '../../agent/mqtt/client-options.js';
import { configFolder } from './config-folder.js';
import { problemsOf } from './problems.js';

const folder = configFolder();
const yaml = (text: string) => folder.write('config.yaml', text);
beforeEach(() => {
  folder.write('claim.crt', 'x');
  folder.write('claim.key', 'x');
});

const provisioning = (url: string, extra = '') =>
  `mqtt:\n  url: ${url}\n  aws_iot:\n    provisioning:\n      template: edge-fleet\n      claim_cert: claim.crt\n      claim_key: claim.key\n${extra}`;

describe('mqtt.aws_iot.provisioning', () => {
  it('turns on the AWS IoT profile without a certificate of its own: prefix things, claim paths resolved', () => {
    const config = loadConfig({ file: yaml(provisioning('mqtts://iot.example:8883', '      parameters: [SerialNumber=42]\n')), env: {} });
    expect(isAwsIot(config.mqtt)).toBe(true);
    expect(config.mqtt.prefix).toBe('things');
    expect(config.mqtt.aws_iot.provisioning).toEqual({ template: 'edge-fleet', claim_cert: join(folder.path(), 'claim.crt'), claim_key: join(folder.path(), 'claim.key'), parameters: ['SerialNumber=42'] });
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
