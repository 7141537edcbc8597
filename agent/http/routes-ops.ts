/**
 * Operations endpoints: `GET /health` (no key needed: systemd watchdogs and load balancers call it) and
 * `GET /metrics` (Prometheus text; the key can come as `Authorization: Bearer`, which scrape configs send).
 */
import type { FastifyInstance } from 'fastify';
import type { ComponentHealth, ComponentState } from '../runtime/service.js';
import type { ModelRef } from '../mqtt/contract/topics.js';
import type { AgentMetrics, ModelHolder } from './metrics.js';
import type { HealthReport } from './types.js';
import { setErrorFormat } from './replies.js';

export interface HealthSummary {
  status: Exclude<ComponentState, 'disabled'>;
  device: string;
  time: string;
  uptime_s: number;
  models: { intruder: ModelRef | null; forecast: ModelRef | null };
  components: Record<string, ComponentHealth>;
}

export interface HealthSources {
  deviceId: string;
  health: () => HealthReport;
  detector: ModelHolder;
  forecaster: ModelHolder;
  now: () => number;
}

function ref(slot: ModelHolder): ModelRef | null {
  const info = slot.current()?.info;
  return info ? { name: info.name, version: info.version } : null;
}

/** The worst component state decides: any `down` makes the agent `down` (HTTP 503). */
export function healthSummary(sources: HealthSources): HealthSummary {
  let components: Record<string, ComponentHealth>;
  try {
    components = sources.health().components;
  } catch (err) {
    components = { agent: { state: 'down', detail: `health report failed: ${(err as Error).message}` } };
  }
  const states = Object.values(components).map((c) => c.state);
  const status = states.includes('down') ? 'down' : states.includes('degraded') ? 'degraded' : 'ok';
  return {
    status,
    device: sources.deviceId,
    time: new Date(sources.now()).toISOString(),
    uptime_s: Math.round(process.uptime()),
    models: { intruder: ref(sources.detector), forecast: ref(sources.forecaster) },
    components,
  };
}

export function opsRoutes(sources: HealthSources, metrics: AgentMetrics) {
  return async function register(app: FastifyInstance): Promise<void> {
    setErrorFormat(app, 'v1');

    app.get('/health', { config: { public: true } }, async (_request, reply) => {
      const summary = healthSummary(sources);
      return reply.code(summary.status === 'down' ? 503 : 200).send(summary);
    });

    app.get('/metrics', async (_request, reply) => {
      const text = await metrics.exposition();
      return reply.type(metrics.contentType).send(text);
    });
  };
}
