/**
 * The `models` line of /health: a model the configuration names (intruder.model, forecast.model) that is
 * not loaded means the agent cannot do that job, so it is `down` (HTTP 503); a model that is merely not
 * installed yet (the demo without an intruder model) is `degraded`, as the pipeline's own line says.
 */
import type { AgentConfig } from '../config/types.js';
import type { ModelSlot } from '../runtime/model-slot.js';
import type { ComponentHealth, Service } from '../runtime/service.js';

interface Role {
  role: 'intruder' | 'forecast';
  /** The pipeline runs and wants this model. */
  wanted: boolean;
  /** The configured file, or null when the registry chooses. */
  configured: string | null;
  slot: Pick<ModelSlot<{ close(): Promise<void> }>, 'current'>;
}

export interface ModelHealthDeps {
  config: AgentConfig;
  intruder: Role['slot'];
  forecaster: Role['slot'];
  /** Which pipelines run (a camera, a sensor). */
  vision: boolean;
  telemetry: boolean;
}

export class ModelHealth implements Service {
  readonly name = 'models';
  private readonly roles: Role[];

  constructor(deps: ModelHealthDeps) {
    const { config } = deps;
    this.roles = [
      { role: 'intruder', wanted: deps.vision && config.intruder.enabled, configured: config.intruder.model, slot: deps.intruder },
      { role: 'forecast', wanted: deps.telemetry && config.forecast.enabled, configured: config.forecast.model, slot: deps.forecaster },
    ];
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  health(): ComponentHealth {
    const missing = this.roles.filter((r) => r.wanted && r.slot.current() === null);
    const configured = missing.filter((r) => r.configured !== null);
    if (configured.length > 0) {
      return { state: 'down', detail: configured.map((r) => `the configured ${r.role} model ${r.configured} is not loaded`).join('; ') };
    }
    if (missing.length > 0) return { state: 'degraded', detail: missing.map((r) => `no ${r.role} model is loaded`).join('; ') };
    return { state: 'ok' };
  }
}
