import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReplayCsv, parseTimestamp, thinToInterval } from '../../../drivers/sensors/replay-csv.js';
import { openReplaySensor, type ReplayOptions } from '../../../drivers/sensors/replay.js';
import { abortableSleep } from '../../../agent/lib/timing.js';
import type { Reading } from '../../../drivers/sensors/types.js';
import { SensorConfigError } from '../../../drivers/sensors/errors.js';
import { VirtualClock } from '../../fakes/i2c/fake-bus.js';
import { fixture } from '../../helpers/fixtures.js';
import { errorOf } from './rig.js';

const MINUTE = 60_000;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edge-replay-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function csv(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

/** A three-row file in the occupancy layout. */
const SMALL = `"date","Temperature","Humidity"
"1","2015-02-02 14:00:00",20.5,30
"2","2015-02-02 14:01:00",20.75,30
"3","2015-02-02 14:02:00",21,30
`;

function options(file: string, clock: VirtualClock, overrides: Partial<ReplayOptions> = {}): ReplayOptions {
  return { file, column: 'Temperature', speed: 60, loop: false, intervalS: 60, clock: clock.clock, sleep: clock.sleep, ...overrides };
}

const celsius = (r: Reading) => (r.valid ? r.celsius : r.error);

describe('replay CSV', () => {
  it('reads the occupancy test file: row names dropped, times in UTC, every minute kept', async () => {
    const rows = parseReplayCsv(await readFile(fixture('data/occupancy/datatest.txt'), 'utf8'), 'Temperature', 'datatest.txt');
    expect(rows).toHaveLength(2665);
    expect(rows[0]).toEqual({ ts: Date.UTC(2015, 1, 2, 14, 19, 0), line: 2, value: 23.7, raw: '23.7' });
    expect(rows.at(-1)).toMatchObject({ ts: Date.UTC(2015, 1, 4, 10, 43, 0), value: 24.4083333333333 });
    // The file's one-second jitter (14:19:59 for 14:20:00) must not cost a row at a 60 s interval.
    expect(thinToInterval(rows, MINUTE)).toHaveLength(2665);
  });

  it('thins rows to one per interval of data time', () => {
    const rows = Array.from({ length: 61 }, (_, i) => ({ ts: i * MINUTE + (i % 2 ? -1000 : 0), line: i + 2, value: i, raw: String(i) }));
    const kept = thinToInterval(rows, 5 * MINUTE);
    expect(kept.map((r) => r.value)).toEqual([0, 3, 8, 13, 18, 23, 28, 33, 38, 43, 48, 53, 58]);
  });

  it.each([
    ['2015-02-02 14:19:00', Date.UTC(2015, 1, 2, 14, 19, 0)],
    ['2015-02-02T14:19:00Z', Date.UTC(2015, 1, 2, 14, 19, 0)],
    ['2015-02-02T14:19:00.5+0100', Date.UTC(2015, 1, 2, 13, 19, 0, 500)],
    ['2015-02-02 14:19', Date.UTC(2015, 1, 2, 14, 19, 0)],
    ['2015-13-02 14:19:00', NaN],
    ['yesterday', NaN],
  ])('parses the time %s', (text, ts) => {
    expect(parseTimestamp(text)).toBe(ts);
  });

  it.each([
    ['a missing column, listing the columns', 'date,Temp\n2015-02-02 14:00,1\n', /x.csv: no "Temperature" column \(columns: date, Temp\)/],
    ['a file without a time column', 'when,Temperature\n1,2\n', /no date\/time column/],
    ['a row with the wrong number of fields, by line', 'date,Temperature\n2015-02-02 14:00,1\n2015-02-02 14:01\n', /x.csv:3: 1 fields, the header has 2/],
    ['an unreadable time, by line', 'date,Temperature\nnoon,1\n', /x.csv:2: "noon" is not a date and time/],
    ['time going backwards', 'date,Temperature\n2015-02-02 14:01,1\n2015-02-02 14:00,1\n', /x.csv:3: time goes backwards/],
    ['a file without data', 'date,Temperature\n', /x.csv: no data rows/],
  ])('rejects %s', (_what, text, message) => {
    expect(() => parseReplayCsv(text, 'Temperature', 'x.csv')).toThrow(SensorConfigError);
    expect(() => parseReplayCsv(text, 'Temperature', 'x.csv')).toThrow(message);
  });
});

describe('ReplaySensor', () => {
  it('paces reads: row n is due (ts_n - ts_0) / speed after the first read', async () => {
    const clock = new VirtualClock();
    const start = clock.now;
    const sensor = await openReplaySensor(options(fixture('data/occupancy/datatest.txt'), clock, { speed: 600 }));
    const first = await sensor.read();
    expect(clock.now).toBe(start);
    const readings = [first, await sensor.read(), await sensor.read()];
    // 14:19:00, 14:19:59, 14:21:00 at 600x: due 0, 98.333.., 200 ms of wall time.
    expect(readings.map((r) => r.ts)).toEqual([Date.UTC(2015, 1, 2, 14, 19, 0), Date.UTC(2015, 1, 2, 14, 19, 59), Date.UTC(2015, 1, 2, 14, 21, 0)]);
    expect(clock.now - start).toBeCloseTo(200, 9);
    expect(readings.map(celsius)).toEqual([23.7, 23.718, 23.73]);
  });

  it('gives a late caller its row at once, skipping none', async () => {
    const clock = new VirtualClock();
    const sensor = await openReplaySensor(options(await csv('late.csv', SMALL), clock));
    await sensor.read();
    clock.now += 10_000; // ten rows' worth of wall time at 60x
    const before = clock.now;
    expect(celsius(await sensor.read())).toBe(20.75);
    expect(celsius(await sensor.read())).toBe(21);
    expect(clock.now).toBe(before);
  });

  it('without loop, answers "replay finished" after the last row, one step of data time apart and still paced', async () => {
    const clock = new VirtualClock();
    const sensor = await openReplaySensor(options(await csv('end.csv', SMALL), clock));
    for (let i = 0; i < 3; i++) await sensor.read();
    const start = clock.now;
    const after = [await sensor.read(), await sensor.read()];
    expect(after.map(errorOf)).toEqual([
      'replay finished: end.csv has no rows after 2015-02-02T14:02:00.000Z',
      'replay finished: end.csv has no rows after 2015-02-02T14:02:00.000Z',
    ]);
    expect(after.map((r) => r.ts)).toEqual([Date.UTC(2015, 1, 2, 14, 3), Date.UTC(2015, 1, 2, 14, 4)]);
    expect(clock.now - start).toBe(2000);
  });

  it('with loop, starts again with timestamps shifted so data time keeps increasing', async () => {
    const clock = new VirtualClock();
    const sensor = await openReplaySensor(options(await csv('loop.csv', SMALL), clock, { loop: true }));
    const readings: Reading[] = [];
    for (let i = 0; i < 7; i++) readings.push(sensor.next());
    expect(readings.map(celsius)).toEqual([20.5, 20.75, 21, 20.5, 20.75, 21, 20.5]);
    expect(readings.map((r) => (r.ts - Date.UTC(2015, 1, 2, 14)) / MINUTE)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('turns a value that is not a number into an invalid reading naming the line', async () => {
    const clock = new VirtualClock();
    const file = await csv('gap.csv', 'date,Temperature\n2015-02-02 14:00,20\n2015-02-02 14:01,NA\n2015-02-02 14:02,\n');
    const sensor = await openReplaySensor(options(file, clock));
    expect([sensor.next(), sensor.next(), sensor.next()].map(celsius)).toEqual([20, 'gap.csv:3: Temperature is "NA", not a number', 'gap.csv:4: Temperature is "", not a number']);
  });

  it('replays another column', async () => {
    const sensor = await openReplaySensor(options(await csv('humidity.csv', SMALL), new VirtualClock(), { column: 'humidity' }));
    expect(celsius(sensor.next())).toBe(30);
  });

  it('ends a paced wait when closed', async () => {
    const clock = new VirtualClock();
    const sensor = await openReplaySensor(options(await csv('close.csv', SMALL), clock, { speed: 1, sleep: abortableSleep }));
    await sensor.read();
    const pending = sensor.read(); // due a minute from now
    const started = performance.now();
    await sensor.close();
    expect(errorOf(await pending)).toBe('sensor closed');
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
