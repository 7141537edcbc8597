import { describe, expect, it } from 'vitest';
import { TemperatureAlerts } from '../../agent/temperature-alerts.js';

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
});
