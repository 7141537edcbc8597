/**
 * Forecast threshold alerts with hysteresis: `high` when a forecast reaches `high_c`, `low` when it
 * reaches `low_c`, `clear` once it is back inside by `hysteresis_c`. Without the dead band a forecast
 * wobbling around the threshold would raise and clear an alert every interval.
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

export class TemperatureAlerts {
  private current: ThresholdState = 'normal';

  constructor(private readonly config: ThresholdConfig) {}

  get state(): ThresholdState {
    return this.current;
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
