/** The shipped Prometheus rules and Grafana dashboard only use series the agent really exports. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EventBus } from '../../agent/runtime/event-bus.js';
import { packageRoot } from '../../agent/lib/paths.js';
import { silentLogger } from '../../agent/lib/log.js';
import { AgentMetrics } from '../../agent/http/metrics.js';
import { ModelSlot } from '../../agent/runtime/model-slot.js';
import { buildHttpApp } from '../../agent/http/server.js';
import type { Forecaster, IntruderDetector } from '../../models/types.js';
import { emptyStatus, httpConfig } from './harness.js';

const monitoring = join(packageRoot(), 'systemd', 'monitoring');

/** Every metric family the agent (with its HTTP server) exposes, from the # TYPE lines. */
async function exportedFamilies(): Promise<Set<string>> {
  const bus = new EventBus(silentLogger());
  const metrics = new AgentMetrics({ bus, outboxDepth: () => 0 });
  await metrics.start();
  const app = buildHttpApp({
    config: { device_id: 'x', http: httpConfig() },
    detector: new ModelSlot<IntruderDetector>(),
    forecaster: new ModelSlot<Forecaster>(),
    health: () => ({ components: {} }),
    status: emptyStatus,
    metrics,
    logger: silentLogger(),
  });
  await app.ready();
  const text = await metrics.exposition();
  await app.close();
  await metrics.stop();
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
}

/** Metric names used in PromQL expressions (histogram suffixes folded into their family). */
function usedFamilies(expressions: string[]): Set<string> {
  const names = expressions.flatMap((e) => [...e.matchAll(/\b((?:edge_agent|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]!));
  return new Set(names.map((n) => n.replace(/_(bucket|sum|count)$/, '')));
}

describe('monitoring examples', () => {
  it('alert rules: valid YAML, each alert with an expression, summary and severity, on exported series', async () => {
    const rules = parse(readFileSync(join(monitoring, 'prometheus-rules.yml'), 'utf8')) as {
      groups: { name: string; rules: { alert: string; expr: string; labels: { severity: string }; annotations: { summary: string } }[] }[];
    };
    const all = rules.groups.flatMap((g) => g.rules);
    expect(all.length).toBeGreaterThanOrEqual(10);
    for (const rule of all) {
      expect(rule.alert).toMatch(/^EdgeAgent[A-Za-z]+$/);
      expect(['critical', 'warning', 'info']).toContain(rule.labels.severity);
      expect(rule.annotations.summary.length).toBeGreaterThan(10);
    }
    const exported = await exportedFamilies();
    for (const name of usedFamilies(all.map((r) => r.expr))) expect(exported, name).toContain(name);
  });

  it('dashboard: valid JSON, importable (datasource input), every panel on exported series', async () => {
    const dashboard = JSON.parse(readFileSync(join(monitoring, 'grafana-dashboard.json'), 'utf8')) as {
      __inputs: { name: string }[];
      panels: { title: string; targets: { expr: string }[] }[];
    };
    expect(dashboard.__inputs.map((i) => i.name)).toEqual(['DS_PROMETHEUS']);
    const expressions = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    const used = usedFamilies(expressions);
    const exported = await exportedFamilies();
    for (const name of used) expect(exported, name).toContain(name);
    for (const wanted of ['edge_agent_inference_seconds', 'edge_agent_frames_skipped_total', 'edge_agent_detections_total', 'edge_agent_outbox_depth', 'edge_agent_model_info']) {
      expect(used, wanted).toContain(wanted);
    }
  });
});
