/**
 * Self-scoring: every forecast is stored with what the model predicted and what persistence ("no
 * change": the window's last reading) would have said; once the reading at its target time is stored,
 * the forecast is scored (agent/store/scores.ts). The active model's rolling errors over 24 h and 7 days
 * are published retained on `<base>/forecast/score` and on the bus (metrics, Home Assistant), and decide
 * the fallback to persistence (fallback.ts).
 *
 * Everything runs on data time (the readings' timestamps), like the forecasts, so a replay scores itself
 * exactly as a device would.
 */
import type { EventBus } from '../runtime/event-bus.js';
import type { Logger } from '../lib/log.js';
import type { MessageBuilder } from '../mqtt/messages.js';
import type { ModelRef, ScoreWindowPayload } from '../mqtt/contract/topics.js';
import type { ErrorSummary, ForecastScores } from '../store/scores.js';
import type { OutboxMessage } from '../store/types.js';
import { chooseServed, type FallbackConfig, type ServedBy } from './fallback.js';

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

export interface SelfScoringDeps {
  scores: Pick<ForecastScores, 'track' | 'due' | 'readingNear' | 'settle' | 'summary'>;
  /** The model in the slot now (whose score is published); null while none is loaded. */
  activeModel: () => ModelRef | null;
  messages: MessageBuilder;
  /** Queues messages in the outbox (SqliteStore.enqueue). */
  publish: (messages: OutboxMessage[]) => boolean;
  fallback: FallbackConfig;
  bus: EventBus;
  logger: Logger;
}

/** What a forecast predicted, to be scored later. */
export interface TrackedForecast {
  forecastId: string;
  targetTs: number;
  model: ModelRef;
  modelCelsius: number;
  persistenceCelsius: number;
  served: ServedBy['served'];
}

const round3 = (value: number | null) => (value === null ? null : Math.round(value * 1000) / 1000);

/** The payload's view of an error summary: MAEs to the millidegree and the skill against persistence. */
export function scoreWindow(summary: ErrorSummary): ScoreWindowPayload {
  const { model_mae, persistence_mae, scored } = summary;
  const skill = model_mae !== null && persistence_mae !== null && persistence_mae > 0 ? 1 - model_mae / persistence_mae : null;
  return { mae_celsius: round3(model_mae), persistence_mae_celsius: round3(persistence_mae), skill: round3(skill), scored };
}

export class SelfScoring {
  /** What the last forecast served, to log the switches between the model and persistence. */
  private lastServed: ServedBy = { served: 'model' };
  private scoredCount = 0;

  constructor(private readonly deps: SelfScoringDeps) {}

  /**
   * Whether a forecast the model just made is served, or persistence instead (the model lost to it over
   * the 24 h before `nowTs`). Logs when that changes.
   */
  choose(model: ModelRef, nowTs: number): ServedBy {
    const decision = chooseServed(this.deps.fallback, model, this.last24h(model, nowTs), this.lastServed.served);
    if (decision.served !== this.lastServed.served) {
      if (decision.served === 'persistence') this.deps.logger.warn({ model }, `forecasting with persistence: ${decision.reason}`);
      else this.deps.logger.info({ model }, `forecasting with ${model.name} ${model.version} again: it beats persistence over the last 24 h`);
    }
    this.lastServed = decision;
    return decision;
  }

  /** Records a forecast's predictions; call it in the job that saves the forecast, so both share a commit. */
  track(forecast: TrackedForecast): void {
    this.deps.scores.track({
      forecast_id: forecast.forecastId,
      target_ts: forecast.targetTs,
      model: forecast.model,
      model_celsius: forecast.modelCelsius,
      persistence_celsius: forecast.persistenceCelsius,
      served: forecast.served,
    });
  }

  /**
   * Scores every forecast whose target time is at least `toleranceMs` before `nowTs` (a reading's time),
   * with the valid reading nearest to its target within `toleranceMs`; a forecast with no reading there
   * (the sensor was down) is left unscored for good. Publishes the new score when any was scored.
   */
  settle(nowTs: number, toleranceMs: number): void {
    const { scores } = this.deps;
    let scored = 0;
    for (const { forecast_id, target_ts } of scores.due(nowTs - toleranceMs)) {
      const actual = scores.readingNear(target_ts, toleranceMs);
      if (scores.settle(forecast_id, actual, nowTs) && actual !== null) scored++;
    }
    if (scored === 0) return;
    this.scoredCount += scored;
    this.publishScore(nowTs);
  }

  /** For the telemetry's health: what is served, and the last 24 h as published. */
  health(nowTs: number | null): Record<string, unknown> {
    const model = this.deps.activeModel();
    const last24h = model && nowTs !== null ? scoreWindow(this.last24h(model, nowTs)) : null;
    return {
      forecast_served_by: this.lastServed.served,
      ...(this.lastServed.served === 'persistence' ? { fallback_reason: this.lastServed.reason } : {}),
      forecasts_scored: this.scoredCount,
      score_24h: last24h,
    };
  }

  private last24h(model: ModelRef, nowTs: number): ErrorSummary {
    return this.deps.scores.summary(nowTs - DAY_MS, nowTs, model);
  }

  private publishScore(nowTs: number): void {
    const { scores, messages, publish, bus, logger } = this.deps;
    const model = this.deps.activeModel();
    if (!model) return;
    const last24h = this.last24h(model, nowTs);
    const served = chooseServed(this.deps.fallback, model, last24h, this.lastServed.served);
    const score = {
      model: { name: model.name, version: model.version },
      last_24h: scoreWindow(last24h),
      last_7d: scoreWindow(scores.summary(nowTs - WEEK_MS, nowTs, model)),
      fallback: { active: served.served === 'persistence', reason: served.served === 'persistence' ? served.reason : null },
    };
    if (!publish([messages.forecastScore(score, nowTs)])) logger.error('could not queue the forecast score');
    bus.emit('forecast.score', { ...score, ts: nowTs });
  }
}
