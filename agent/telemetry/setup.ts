/**
 * Builds the telemetry pipeline from the configuration, the same way for the daemon (agent/daemon/agent.ts)
 * and for the replay that measures it (`npm run eval:forecast`): the threshold alerts resumed from the
 * store, self-scoring with its fallback, and the cadence.
 */
import type { TemperatureSensor } from '../../drivers/sensors/index.js';
import type { Forecaster } from '../../models/types.js';
import type { AgentConfig } from '../config/types.js';
import type { Logger } from '../lib/log.js';
import type { MessageBuilder } from '../mqtt/messages.js';
import type { EventBus } from '../runtime/event-bus.js';
import type { ModelSlot } from '../runtime/model-slot.js';
import type { SqliteStore } from '../store/store.js';
import { TEMPERATURE_ALERTS_STATE, TelemetryPipeline } from './pipeline.js';
import { SelfScoring } from './self-scoring.js';
import { savedThresholdState, TemperatureAlerts } from './temperature-alerts.js';

export interface TelemetrySetup {
  config: Pick<AgentConfig, 'sensor' | 'forecast'>;
  sensor: TemperatureSensor;
  forecaster: ModelSlot<Forecaster>;
  store: SqliteStore;
  messages: MessageBuilder;
  bus: EventBus;
  logger: Logger;
}

export function createTelemetryPipeline(setup: TelemetrySetup): TelemetryPipeline {
  const { config, sensor, forecaster, store, messages, bus } = setup;
  const logger = setup.logger.child({ module: 'telemetry' });
  const scoring = new SelfScoring({
    scores: store.scores,
    activeModel: () => forecaster.current()?.info ?? null,
    messages,
    publish: (outgoing) => store.enqueue(outgoing),
    fallback: config.forecast.fallback,
    bus,
    logger,
  });
  return new TelemetryPipeline({
    sensor,
    forecaster,
    store,
    messages,
    alerts: new TemperatureAlerts(config.forecast, savedThresholdState(store.loadState(TEMPERATURE_ALERTS_STATE))),
    scoring,
    config: {
      // The replay sensor paces itself (in data time, at its speed); real sensors are read every interval_s.
      periodMs: config.sensor.driver === 'replay' ? 0 : config.sensor.interval_s * 1000,
      forecastEnabled: config.forecast.enabled,
      every_s: config.forecast.every_s,
    },
    bus,
    logger,
  });
}
