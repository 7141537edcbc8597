/**
 * Forecast threshold alerts with hysteresis: `high` when a forecast reaches `high_c`, `low` when it
 * reaches `low_c`, `clear` once it is back inside by `hysteresis_c`. Without the dead band a forecast
 * wobbling around the threshold would raise and clear an alert every interval.
 *
 * The state survives a restart (the telemetry pipeline saves it with the forecast that changed it), so
 * a forecast still beyond a threshold after a restart does not alert a second time, unless the
 * thresholds changed meanwhile: an alert about a new threshold has not been sent yet.
 */

export interface ThresholdConfig {
  high_c: number | null;
  low_c: number | null;
  hysteresis_c: number;
}

export type ThresholdState = 'normal' | 'high' | 'low';

export interface ThresholdAlert {
  kind: 'high' | 'low' | 'clear';
  /** The threshold crossed (for `clear`: the one the alert was about). */
  threshold_c: number;
}

/** The state as saved: with the thresholds it was reached with. */
export interface SavedThresholdState {
  state: ThresholdState;
  high_c: number | null;
  low_c: number | null;
}

const STATES: readonly unknown[] = ['normal', 'high', 'low'] satisfies ThresholdState[];
const isThreshold = (value: unknown) => value === null || typeof value === 'number';

/** A saved state read back from the store, or null when it is missing or not one (an older or damaged value). */
export function savedThresholdState(value: unknown): SavedThresholdState | null {
  if (typeof value !== 'object' || value === null) return null;
  const { state, high_c, low_c } = value as Record<string, unknown>;
  if (!STATES.includes(state) || !isThreshold(high_c) || !isThreshold(low_c)) return null;
  return { state: state as ThresholdState, high_c: high_c as number | null, low_c: low_c as number | null };
}

export class TemperatureAlerts {
  private current: ThresholdState = 'normal';

  /** `saved`: the state before a restart; ignored when it was reached with other thresholds. */
  constructor(
    private readonly config: ThresholdConfig,
    saved: SavedThresholdState | null = null,
  ) {
    if (saved && saved.high_c === config.high_c && saved.low_c === config.low_c) this.current = saved.state;
  }

  get state(): ThresholdState {
    return this.current;
  }

  /** What to save so that a restart resumes here. */
  saved(): SavedThresholdState {
    return { state: this.current, high_c: this.config.high_c, low_c: this.config.low_c };
  }

  /** Feeds one forecast; returns the alerts it raises (none, or a clear followed by the opposite alert). */
  evaluate(predicted: number): ThresholdAlert[] {
    const { high_c, low_c, hysteresis_c } = this.config;
    const alerts: ThresholdAlert[] = [];
    if (this.current === 'high' && high_c !== null && predicted <= high_c - hysteresis_c) {
      alerts.push({ kind: 'clear', threshold_c: high_c });
      this.current = 'normal';
    } else if (this.current === 'low' && low_c !== null && predicted >= low_c + hysteresis_c) {
      alerts.push({ kind: 'clear', threshold_c: low_c });
      this.current = 'normal';
    }
    if (this.current !== 'high' && high_c !== null && predicted >= high_c) {
      if (this.current === 'low' && low_c !== null) alerts.push({ kind: 'clear', threshold_c: low_c });
      alerts.push({ kind: 'high', threshold_c: high_c });
      this.current = 'high';
    } else if (this.current !== 'low' && low_c !== null && predicted <= low_c) {
      if (this.current === 'high' && high_c !== null) alerts.push({ kind: 'clear', threshold_c: high_c });
      alerts.push({ kind: 'low', threshold_c: low_c });
      this.current = 'low';
    }
    return alerts;
  }
}
