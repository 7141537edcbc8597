import { describe, expect, it } from 'vitest';
import { savedThresholdState, TemperatureAlerts } from '../../agent/telemetry/temperature-alerts.js';

describe('TemperatureAlerts', () => {
  it('raises high at the threshold and clears only once back inside by the hysteresis', () => {
    const a = new TemperatureAlerts({ high_c: 25, low_c: null, hysteresis_c: 0.5 });
    expect(a.evaluate(24.9)).toEqual([]);
    expect(a.evaluate(25)).toEqual([{ kind: 'high', threshold_c: 25 }]);
    expect(a.evaluate(26)).toEqual([]);
    expect(a.evaluate(24.8)).toEqual([]);
    expect(a.evaluate(25.2)).toEqual([]);
    expect(a.evaluate(24.5)).toEqual([{ kind: 'clear', threshold_c: 25 }]);
    expect(a.state).toBe('normal');
    expect(a.evaluate(25.1)).toEqual([{ kind: 'high', threshold_c: 25 }]);
  });

  it('raises low and clears it above low + hysteresis', () => {
    const a = new TemperatureAlerts({ high_c: null, low_c: 5, hysteresis_c: 1 });
    expect(a.evaluate(4)).toEqual([{ kind: 'low', threshold_c: 5 }]);
    expect(a.evaluate(5.9)).toEqual([]);
    expect(a.evaluate(6)).toEqual([{ kind: 'clear', threshold_c: 5 }]);
  });

  it('goes from high straight to low with a clear in between', () => {
    const a = new TemperatureAlerts({ high_c: 25, low_c: 18, hysteresis_c: 0.5 });
    a.evaluate(26);
    expect(a.evaluate(17)).toEqual([
      { kind: 'clear', threshold_c: 25 },
      { kind: 'low', threshold_c: 18 },
    ]);
    expect(a.evaluate(30)).toEqual([
      { kind: 'clear', threshold_c: 18 },
      { kind: 'high', threshold_c: 25 },
    ]);
  });

  it('never alerts without thresholds', () => {
    const a = new TemperatureAlerts({ high_c: null, low_c: null, hysteresis_c: 0.5 });
    for (const t of [-40, 0, 100]) expect(a.evaluate(t)).toEqual([]);
  });

  it('resumes a saved state reached with the same thresholds, and starts over when they changed', () => {
    const config = { high_c: 25, low_c: 5, hysteresis_c: 0.5 };
    const before = new TemperatureAlerts(config);
    before.evaluate(26);
    const saved = savedThresholdState(JSON.parse(JSON.stringify(before.saved())));
    expect(saved).toEqual({ state: 'high', high_c: 25, low_c: 5 });
    const resumed = new TemperatureAlerts(config, saved);
    expect(resumed.evaluate(26)).toEqual([]);
    expect(resumed.evaluate(24)).toEqual([{ kind: 'clear', threshold_c: 25 }]);
    const changed = new TemperatureAlerts({ ...config, high_c: 24 }, saved);
    expect(changed.state).toBe('normal');
    expect(changed.evaluate(26)).toEqual([{ kind: 'high', threshold_c: 24 }]);
  });

  it('reads back only a well-formed saved state', () => {
    for (const value of [null, 'high', 42, { state: 'boiling', high_c: 25, low_c: null }, { state: 'high', high_c: '25', low_c: null }, { state: 'low' }]) {
      expect(savedThresholdState(value), JSON.stringify(value)).toBeNull();
    }
    expect(savedThresholdState({ state: 'low', high_c: null, low_c: 3 })).toEqual({ state: 'low', high_c: null, low_c: 3 });
  });
});
