/**
 * The safe fallback: when the active model has been worse than persistence ("no change") over the last
 * 24 h, with enough scored forecasts to say so, the agent forecasts with persistence and says why,
 * until the model wins again. Persistence is what a user would guess without any model, so a model
 * that loses to it makes the forecasts worse than having none.
 *
 * The decision is made from the stored scores at every forecast; the model keeps being run and scored
 * while persistence is served, which is how it can win again. The switch to persistence waits until the
 * model is `margin` worse than it (10%), the switch back only until it is better: on the replays of
 * `npm run eval:forecast` a plain "worse over 24 h" switched on near-ties, at the wrong hours of the day
 * (the 24 h errors lag the room), and served worse than either (docs/forecaster.md, "Safe fallback").
 */
import type { ModelRef } from '../mqtt/contract/topics.js';
import type { ErrorSummary } from '../store/scores.js';

export interface FallbackConfig {
  enabled: boolean;
  /** Forecasts of the model scored in the last 24 h before its errors count (fewer say too little). */
  min_scored: number;
  /** Fraction by which the model's 24 h error must exceed persistence's before persistence is served. */
  margin: number;
}

/** What a forecast serves instead of a model that loses. */
export const PERSISTENCE: ModelRef = { name: 'persistence', version: '1' };

export type ServedBy = { served: 'model' } | { served: 'persistence'; reason: string };

const celsius = (value: number) => `${value.toFixed(2)} °C`;

/** Whether to serve the model or persistence, given the model's scores over the last 24 h and what is served now. */
export function chooseServed(config: FallbackConfig, model: ModelRef, last24h: ErrorSummary, current: ServedBy['served']): ServedBy {
  const { scored, model_mae, persistence_mae } = last24h;
  if (!config.enabled || scored < config.min_scored || model_mae === null || persistence_mae === null) return { served: 'model' };
  const losing = current === 'persistence' ? model_mae >= persistence_mae : model_mae > persistence_mae * (1 + config.margin);
  if (!losing) return { served: 'model' };
  return {
    served: 'persistence',
    reason:
      `${model.name} ${model.version} was worse than persistence over the last 24 h ` +
      `(mean error ${celsius(model_mae)} against ${celsius(persistence_mae)} on ${scored} forecasts); it is still scored and takes over again once it wins`,
  };
}
