/**
 * Clock safety on a fake clock that steps: a Pi without a real-time clock starts at a wrong time and steps
 * when NTP answers. Records stay in the order they were made, each says whether the clock was synchronised,
 * a forecast window never spans a step, and retention and rate limits survive a step of a year forward and
 * of a day back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TokenBucketLimiter } from '../../agent/http/rate-limit.js';
import { TokenBucket } from '../../agent/lib/token-bucket.js';
import { systemClockSynced } from '../../agent/store/clock-sync.js';
import { SqliteStore } from '../../agent/store/store.js';
import type { DetectionRecord, ForecastRecord } from '../../agent/store/types.js';
import { captureLog } from '../helpers/log-capture.js';
import { nextTurn } from '../helpers/turn.js';

const DAY = 86_400_000;
const YEAR = 365 * DAY;
const T0 = Date.parse('2026-06-01T00:00:00Z');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'edge-clock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A wall clock that can step and a monotonic clock that cannot; `pass` moves both. */
function fakeClock(start = T0) {
  const clock = { wall: start, mono: 0, synced: false };
  return {
    clock,
    pass(ms: number) {
      clock.wall += ms;
      clock.mono += ms;
    },
    step(ms: number) {
      clock.wall += ms;
    },
  };
}

function openStore(c: ReturnType<typeof fakeClock>['clock'], retentionDays = 30) {
  const log = captureLog();
  const store = SqliteStore.open(join(dir, 'edge.db'), {
    logger: log.logger,
    config: { max_outbox_rows: 1000, retention_days: retentionDays },
    clock: () => c.wall,
    monotonic: () => c.mono,
    clockSynced: () => c.synced,
  });
  return { store, log };
}

const reading = (ts: number, celsius = 20) => ({ valid: true as const, celsius, ts, sensor: 'sim' });
const detection = (id: string, ts: number): DetectionRecord => ({ id, event_id: `e-${id}`, camera: 'main', event: 'start', ts, objects: [], model: { name: 'm', version: '1' }, snapshot: null });
const forecast = (id: string, ts: number): ForecastRecord => ({ id, ts, predicted_celsius: 20, horizon_s: 3600, from_ts: ts, to_ts: ts, n: 60, model: { name: 'f', version: '1' } });

function rows(sql: string): Record<string, unknown>[] {
  const db = new Database(join(dir, 'edge.db'), { readonly: true });
  try {
    return db.prepare(sql).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

describe('clock safety', () => {
  it('every record says whether the clock was synchronised when it was made', async () => {
    const t = fakeClock();
    const { store } = openStore(t.clock);
    store.saveReading(reading(t.clock.wall), []);
    store.saveDetection(detection('d1', t.clock.wall), []);
    t.clock.synced = true;
    t.pass(1_000);
    store.saveReading(reading(t.clock.wall), []);
    store.saveForecast(forecast('f1', t.clock.wall), []);
    await nextTurn();
    store.close();
    expect(rows('SELECT clock_synced AS s FROM readings ORDER BY id').map((r) => r.s)).toEqual([0, 1]);
    expect(rows('SELECT clock_synced AS s FROM detections').map((r) => r.s)).toEqual([0]);
    expect(rows('SELECT clock_synced AS s FROM forecasts').map((r) => r.s)).toEqual([1]);
  });

  it('a step of a year forward: a forecast window starts afresh, records keep their order, the history is not wiped', async () => {
    const t = fakeClock();
    const { store, log } = openStore(t.clock);
    for (let i = 0; i < 10; i++) {
      store.saveReading(reading(t.clock.wall, 20 + i / 10), []);
      t.pass(60_000);
    }
    store.saveForecast(forecast('before', t.clock.wall), []);
    t.step(YEAR); // NTP answers: the Pi had booted a year behind
    t.pass(60_000);
    store.saveReading(reading(t.clock.wall, 25), []);
    store.saveForecast(forecast('after', t.clock.wall), []);
    await nextTurn();
    expect(log.matching(/^the wall clock stepped forward by 365\.0 days: new clock epoch 1/)).toHaveLength(1);
    // The window the forecaster asks for (any time range) holds no reading from before the step.
    expect(store.validReadingsSince(0)).toEqual([{ ts: t.clock.wall, celsius: 25 }]);
    expect(store.readingsSince(0)).toHaveLength(11); // history, in the order it was made
    expect(store.lastForecast()?.id).toBe('after');
    // Retention: the readings before the step are 10 minutes old, not a year.
    expect(store.prune()).toEqual({ readings: 0, detections: 0, forecasts: 0 });
    t.pass(30 * DAY);
    store.saveReading(reading(t.clock.wall, 26), []);
    expect(store.prune().readings).toBe(10);
    store.close();
  });

  it('a step of a day back: records made after it come after in every list, and retention is not a day late', async () => {
    const t = fakeClock();
    const { store, log } = openStore(t.clock);
    store.saveReading(reading(t.clock.wall - 29.5 * DAY, 18), []); // written as data half a day from expiry
    store.saveReading(reading(t.clock.wall, 19), []);
    store.saveDetection(detection('first', t.clock.wall), []);
    store.saveForecast(forecast('first', t.clock.wall), []);
    t.step(-DAY);
    t.pass(1_000);
    store.saveReading(reading(t.clock.wall, 21), []);
    store.saveDetection(detection('second', t.clock.wall), []);
    store.saveForecast(forecast('second', t.clock.wall), []);
    await nextTurn();
    expect(log.matching(/^the wall clock stepped back by 1\.0 days/)).toHaveLength(1);
    expect(store.readingsSince(0).map((r) => (r.valid ? r.celsius : null))).toEqual([18, 19, 21]);
    expect(store.recentDetections(10).map((d) => d.id)).toEqual(['second', 'first']);
    expect(store.lastForecast()?.id).toBe('second');
    expect(store.forecastsSince(0).map((f) => f.id)).toEqual(['first', 'second']);
    expect(store.validReadingsSince(0)).toEqual([{ ts: t.clock.wall, celsius: 21 }]);
    // 0.6 days later the first reading is 30.1 days old: gone now, not a day later.
    t.pass(0.6 * DAY);
    store.saveReading(reading(t.clock.wall, 22), []);
    expect(store.prune().readings).toBe(1);
    expect(store.readingsSince(0).map((r) => (r.valid ? r.celsius : null))).toEqual([19, 21, 22]);
    store.close();
  });

  it('a restart with the clock before the newest record (booted in 1970) starts a new epoch; a restart without a step does not', async () => {
    const t = fakeClock();
    let { store } = openStore(t.clock);
    store.saveReading(reading(t.clock.wall), []);
    await nextTurn();
    store.close();
    t.pass(60_000);
    ({ store } = openStore(t.clock));
    store.saveReading(reading(t.clock.wall, 21), []);
    expect(store.validReadingsSince(0)).toHaveLength(2); // a plain restart keeps the window
    await nextTurn();
    store.close();
    const booted = fakeClock(0); // 1970, no RTC
    const reopened = openStore(booted.clock);
    expect(reopened.log.matching(/^the wall clock stepped back by .* days: new clock epoch 1/)).toHaveLength(1);
    expect(reopened.store.validReadingsSince(0)).toEqual([]);
    // The records of before are as old as the downtime can be known (none), not 56 years.
    expect(reopened.store.prune().readings).toBe(0);
    reopened.store.close();
  });

  it('HTTP and publish rate limits survive a step of a day back and a year forward', () => {
    let now = T0;
    const limiter = new TokenBucketLimiter(10, 10, () => now);
    for (let i = 0; i < 10; i++) limiter.take('a');
    expect(limiter.take('a').allowed).toBe(false);
    now -= DAY; // the time across a step is unknown: it counts as none
    expect(limiter.take('a').allowed).toBe(false);
    now += 1_000;
    expect(limiter.take('a').allowed).toBe(true); // a second later, not a day later
    now += YEAR;
    expect(limiter.take('a')).toMatchObject({ allowed: true, remaining: 9 }); // a full bucket, no more

    now = T0;
    const rate = new TokenBucket(100, 100, () => now);
    expect(rate.take(100)).toBe(100);
    now -= DAY;
    expect(rate.take(100)).toBe(0);
    now += 1_000;
    expect(rate.take(100)).toBe(100);
    now += YEAR;
    expect(rate.take(1_000)).toBe(100);
  });

  it('the synchronised state starts from the timesyncd flag file and is refreshed in the background, at most once a minute', async () => {
    let now = 0;
    let answer = true;
    let asked = 0;
    const synced = systemClockSynced({ flagFile: join(dir, 'missing'), now: () => now, ask: async () => (asked++, answer) });
    expect(synced()).toBe(false);
    now += 30_000;
    expect(synced()).toBe(false);
    expect(asked).toBe(0);
    now += 30_000;
    synced();
    await nextTurn();
    expect(synced()).toBe(true);
    expect(asked).toBe(1);
    answer = false;
    now += 60_000;
    synced();
    await nextTurn();
    expect(synced()).toBe(false);
    expect(asked).toBe(2);
  });
});
