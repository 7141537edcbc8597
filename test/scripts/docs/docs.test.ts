import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../../agent/lib/paths.js';
import { GENERATED_DOCS, replaceGenerated } from '../../../scripts/docs/render.js';

describe('generated documentation', () => {
  for (const doc of GENERATED_DOCS) {
    it(`${doc.file} matches the schemas it documents (regenerate with npm run docs)`, () => {
      const current = readFileSync(join(packageRoot(), doc.file), 'utf8');
      expect(replaceGenerated(current, doc.block, doc.render())).toBe(current);
    });
  }

  it('lists every configuration key and every published topic', () => {
    const config = readFileSync(join(packageRoot(), 'docs/configuration.md'), 'utf8');
    for (const name of ['EDGE_AGENT_MQTT_AWS_IOT_THING_NAME', 'EDGE_AGENT_STORE_MAX_OUTBOX_ROWS', 'EDGE_AGENT_HTTP_RATE_LIMIT_BURST']) expect(config).toContain(`\`${name}\``);
    const mqtt = readFileSync(join(packageRoot(), 'docs/mqtt.md'), 'utf8');
    for (const topic of ['status', 'alerts/intruder', 'snapshot', 'telemetry/temperature', 'forecast/temperature', 'alerts/temperature', 'alarm', 'models/+', 'cmd/+/response']) {
      expect(mqtt).toContain(`| \`${topic}\` |`);
    }
  });
});
