import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../agent/config/load.js';
import { brokerUrls } from '../../agent/mqtt/client-options.js';
import { configFolder } from './config-folder.js';
import { problemsOf } from './problems.js';

const folder = configFolder();
const yaml = (text: string) => folder.write('config.yaml', text);

describe('mqtt.url as a list of brokers (failover)', () => {
  it('takes one URL or a list, from the file or comma-separated from the environment; brokerUrls() reads both as a list', () => {
    const one = loadConfig({ file: yaml('mqtt:\n  url: mqtt://a.lan:1883\n'), env: {} });
    expect(brokerUrls(one.mqtt)).toEqual(['mqtt://a.lan:1883']);
    const list = loadConfig({ file: yaml('mqtt:\n  url: [mqtt://a.lan:1883, mqtts://b.lan:8883]\n'), env: {} });
    expect(list.mqtt.url).toEqual(['mqtt://a.lan:1883', 'mqtts://b.lan:8883']);
    const env = loadConfig({ env: { EDGE_AGENT_MQTT_URL: 'mqtt://a.lan:1883, mqtt://b.lan:1883' } });
    expect(brokerUrls(env.mqtt)).toEqual(['mqtt://a.lan:1883', 'mqtt://b.lan:1883']);
  });

  it('names each bad item by its place in the list, all at once', () => {
    const path = yaml(['mqtt:', '  url:', '    - mqtt://a.lan:1883', '    - http://b.lan', '    - mqtt://a.lan:1883'].join('\n'));
    const problems = problemsOf(() => loadConfig({ file: path, env: {} })).map((p) => `${p.path}: ${p.message}`);
    expect(problems).toEqual([
      'mqtt.url[1]: must start with mqtt://, mqtts://, ws:// or wss:// (got "http://b.lan")',
      'mqtt.url: must not list the same item twice (got ["mqtt://a.lan:1883","http://b.lan","mqtt://a.lan:1883"])',
    ]);
    expect(problemsOf(() => loadConfig({ file: yaml('mqtt:\n  url: []\n'), env: {} })).map((p) => p.path)).toEqual(['mqtt.url']);
  });

  it('with AWS IoT Core, every broker in the list must be mqtts://', () => {
    const cert = join(folder.path(), 'device.crt');
    writeFileSync(cert, 'x');
    const path = yaml(
      ['mqtt:', '  url: [mqtts://a.iot.amazonaws.com:8883, mqtt://b.lan:1883]', `  cert: ${cert}`, `  key: ${cert}`, '  aws_iot:', '    thing_name: pi-1'].join('\n'),
    );
    expect(problemsOf(() => loadConfig({ file: path, env: {} }))).toEqual([
      expect.objectContaining({ path: 'mqtt.url[1]', message: 'must be mqtts:// (port 8883) with AWS IoT Core (got "mqtt://b.lan:1883")' }),
    ]);
  });
});
