import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { MessageBuilder } from '../../../agent/mqtt/messages.js';
import { parseReplayCsv } from '../../../drivers/sensors/replay-csv.js';
import { MIN_READINGS, tally, unmet, type SmokeObservations } from '../../../scripts/arm64/smoke-checks.js';
import { fixture } from '../../helpers/fixtures.js';

const BASE = 'edge/arm64-smoke';
const builder = new MessageBuilder(BASE, 'arm64-smoke');
const model = { name: 'yolov8n-int8', version: '8.4.115' };
const person = { class: 'person', confidence: 0.9, bbox: { xmin: 33, ymin: 270, xmax: 166, ymax: 620 }, track_id: 't1', top_score: 0.9, stationary: false, zones: [] };

/** The observations of a run that went right, with the messages built by the agent's own MessageBuilder. */
function goodRun(file: { celsius: number[]; jpeg: Buffer }): SmokeObservations {
  const start = 1_700_000_000_000;
  const built = [
    { topic: `${BASE}/status`, payload: 'online' },
    builder.alarmState(false),
    ...file.celsius.map((celsius, i) => builder.telemetry({ valid: true, celsius, ts: start + i * 60_000, sensor: 'replay:datatest.txt' })),
    builder.intruderAlert({ id: 'a1', event_id: 'e1', camera: 'main', event: 'start', ts: start, objects: [person], model, snapshot: null }),
    builder.snapshot(file.jpeg),
    builder.alarmState(true),
    builder.forecast({ id: 'f1', ts: start, predicted_celsius: 22.82, horizon_s: 3600, from_ts: start, to_ts: start + 59 * 60_000, n: 60, model }),
    builder.temperatureAlert({ ts: start, kind: 'high', threshold_c: 20, predicted_celsius: 22.82, horizon_s: 3600, forecast_id: 'f1' }),
    builder.intruderAlert({ id: 'a2', event_id: 'e1', camera: 'main', event: 'end', ts: start + 5000, objects: [], model, snapshot: null }),
    builder.alarmState(false),
    { topic: `${BASE}/status`, payload: 'offline' },
  ];
  return {
    messages: built.map((m) => ({ topic: m.topic.slice(BASE.length + 1), payload: Buffer.from(m.payload) })),
    health: { status: 200, body: { status: 'ok' } },
    exit: { code: 0, signal: null, afterSigterm: true },
    errorLogs: [],
    firstFileCelsius: file.celsius[0]!,
  };
}

const names = (o: SmokeObservations, phases?: ('running' | 'stopped')[]) => unmet(o, phases).map((e) => e.name);
const without = (o: SmokeObservations, topic: string, payload?: string) =>
  ({ ...o, messages: o.messages.filter((m) => m.topic !== topic || (payload !== undefined && !m.payload.toString().includes(payload))) });

describe('smoke run expectations', () => {
  let file: { celsius: number[]; jpeg: Buffer };

  beforeAll(() => {
    const path = fixture('data/occupancy/datatest.txt');
    const rows = parseReplayCsv(readFileSync(path, 'utf8'), 'Temperature', path).slice(0, MIN_READINGS);
    file = { celsius: rows.map((row) => row.value!), jpeg: readFileSync(fixture('images/bus.jpg')) };
  });

  it('are all met by a run that went right, and the tally counts its messages', () => {
    const run = goodRun(file);
    expect(names(run)).toEqual([]);
    expect(tally(run)).toBe(`2 intruder alerts, ${MIN_READINGS} readings, 1 forecasts, 1 temperature alerts`);
  });

  it('keep the agent running until the end of the intrusion, the snapshot and the forecast arrived', () => {
    const run = goodRun(file);
    expect(names(without(run, 'alerts/intruder', '"end"'), ['running'])).toEqual(['an intruder alert `end` of that event']);
    expect(names(without(run, 'snapshot'), ['running'])).toEqual(['a JPEG snapshot']);
    expect(names(without(run, 'forecast/temperature'), ['running'])).toEqual(['a temperature forecast from a 60-reading window']);
    expect(names({ ...run, health: null }, ['running'])).toEqual(['GET /health answers 200']);
  });

  it('want a start alert with a person, and an end of that same event', () => {
    const run = goodRun(file);
    const alerts = run.messages.filter((m) => m.topic === 'alerts/intruder');
    const catOnly = alerts[0]!.payload.toString().replaceAll('"person"', '"cat"');
    const otherEvent = alerts[1]!.payload.toString().replace('"e1"', '"e2"');
    const rest = run.messages.filter((m) => m.topic !== 'alerts/intruder');
    expect(names({ ...run, messages: [...rest, { topic: 'alerts/intruder', payload: Buffer.from(catOnly) }, alerts[1]!] })).toEqual([
      'an intruder alert `start` with a person',
      'an intruder alert `end` of that event',
    ]);
    expect(names({ ...run, messages: [...rest, alerts[0]!, { topic: 'alerts/intruder', payload: Buffer.from(otherEvent) }] })).toEqual([
      'an intruder alert `end` of that event',
    ]);
  });

  it('want enough readings, the first one being the file\'s first temperature', () => {
    const run = goodRun(file);
    const telemetry = `telemetry: at least ${MIN_READINGS} valid readings, the first one the file's first temperature`;
    expect(names({ ...run, firstFileCelsius: file.celsius[0]! + 0.5 })).toEqual([telemetry]);
    const oneReadingLess = run.messages.filter((m, i) => !(m.topic === 'telemetry/temperature' && i === run.messages.findIndex((n) => n.topic === m.topic)));
    expect(names({ ...run, messages: oneReadingLess })).toEqual([telemetry]);
  });

  it('want a JPEG snapshot, not any payload', () => {
    const run = goodRun(file);
    const messages = run.messages.map((m) => (m.topic === 'snapshot' ? { ...m, payload: Buffer.from('not a jpeg') } : m));
    expect(names({ ...run, messages })).toEqual(['a JPEG snapshot']);
  });

  it('after the stop, want exit status 0 from SIGTERM, the alarm off, offline last and a clean log', () => {
    const run = goodRun(file);
    expect(names({ ...run, exit: { code: 0, signal: null, afterSigterm: false } }, ['stopped'])).toEqual(['exit status 0 after SIGTERM']);
    expect(names({ ...run, exit: { code: 70, signal: null, afterSigterm: true } }, ['stopped'])).toEqual(['exit status 0 after SIGTERM']);
    expect(names({ ...run, exit: null }, ['stopped'])).toEqual(['exit status 0 after SIGTERM']);
    expect(names(without(run, 'status', 'offline'), ['stopped'])).toEqual(['status `offline` last']);
    expect(names({ ...run, messages: run.messages.slice(0, -2).concat(run.messages.slice(-1)) }, ['stopped'])).toEqual(['alarm `off` last']);
    expect(names({ ...run, errorLogs: ['vision pipeline failed'] }, ['stopped'])).toEqual(['no error in the log']);
    // None of these holds the agent back while it runs.
    expect(names({ ...run, exit: null, errorLogs: ['x'] }, ['running'])).toEqual([]);
  });
});
