import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DetectionRecord, ForecastRecord } from '../../agent/store/types.js';
import { isoTs, MessageBuilder, MessageIds } from '../../agent/mqtt/messages.js';
import { PayloadValidator } from '../../agent/mqtt/contract/schemas.js';
import { topicMatches } from '../../agent/mqtt/subscriptions.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const m = new MessageBuilder('edge/pi-1', 'pi-1');
const contract = new PayloadValidator();
const suffix = (topic: string) => topic.slice('edge/pi-1/'.length);

describe('MessageIds', () => {
  it('makes UUIDv7 ids that carry the time and sort in creation order, even within one millisecond', () => {
    const provider = new MessageIds();
    const base = Date.UTC(2025, 0, 31, 12);
    const ids = Array.from({ length: 10_000 }, () => provider.next(base));
    for (const id of ids.slice(0, 50)) expect(id).toMatch(UUID_V7);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    const later = provider.next(base + 500);
    expect(parseInt(later.replace(/-/g, '').slice(0, 12), 16)).toBe(base + 500);
  });

  it('never goes backwards when the wall clock does (NTP step at boot)', () => {
    const provider = new MessageIds();
    const before = provider.next(Date.UTC(2025, 0, 31, 12));
    const after = provider.next(Date.UTC(2025, 0, 30, 12));
    expect(after > before).toBe(true);
  });

  it('keeps its state per instance: a provider of its own does not see the ids of another', () => {
    const ahead = new MessageIds();
    ahead.next(Date.UTC(2030, 0, 1));
    const id = new MessageIds().next(Date.UTC(2025, 0, 31, 12));
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(Date.UTC(2025, 0, 31, 12));
  });

  it('is what a MessageBuilder stamps its messages with', () => {
    const provider = new MessageIds();
    const builder = new MessageBuilder('edge/pi-1', 'pi-1', provider);
    const issued = provider.next(Date.now() + 60_000);
    const { id } = JSON.parse(builder.telemetry({ valid: true, celsius: 20, ts: 0, sensor: 's' }).payload as string) as { id: string };
    expect(id > issued).toBe(true);
  });
});

describe('MessageBuilder', () => {
  const detection: DetectionRecord = {
    id: m.ids.next(),
    event_id: 'ev-7', camera: 'main',
    event: 'start',
    ts: Date.UTC(2025, 0, 31, 12),
    objects: [{ class: 'dog', confidence: 0.96, bbox: { xmin: 131, ymin: 220, xmax: 308, ymax: 539 }, track_id: 't1', top_score: 0.97, stationary: false, zones: [] }],
    model: { name: 'yolov8n', version: '2024-01' },
    snapshot: null,
  };
  const forecast: ForecastRecord = {
    id: m.ids.next(),
    ts: Date.UTC(2025, 0, 31, 12),
    predicted_celsius: 21.37,
    horizon_s: 3600,
    from_ts: Date.UTC(2025, 0, 31, 11, 1),
    to_ts: Date.UTC(2025, 0, 31, 12),
    n: 60,
    model: { name: 'temperature-forecast', version: '1' },
  };

  it('shapes each payload of the contract so that it validates against its schema', () => {
    const messages = [
      m.telemetry({ valid: true, celsius: 21.5, ts: 0, sensor: 'bme280@0x76' }),
      m.telemetry({ valid: false, error: 'no ACK from 0x76', ts: 0, sensor: 'bme280@0x76' }),
      m.intruderAlert(detection),
      m.intruderAlert({ ...detection, event: 'end', objects: [] }),
      m.forecast(forecast),
      m.temperatureAlert({ ts: forecast.ts, kind: 'high', threshold_c: 21, predicted_celsius: 21.37, horizon_s: 3600, forecast_id: forecast.id }),
      m.alarmState(true),
      m.alarmState(false),
      m.modelInfo({ role: 'intruder', name: 'yolov8n', version: '2024-01', sha256: 'ab'.repeat(32), activated_at: isoTs(0) }),
      m.commandResponse('alarm', { status: 'error', error: 'unknown action "explode"', data: { code: 'invalid_request' } }),
      m.commandResponse('forecast-now', { status: 'ok', data: { forecast_id: forecast.id }, transaction: 7 }),
      m.commandProgress('model-update', { data: { stage: 'downloading' }, transaction: 'tx' }),
      m.snapshot(Buffer.from([0xff, 0xd8, 0xff, 0xe0])),
    ];
    for (const msg of messages) expect({ topic: msg.topic, problems: contract.problems(suffix(msg.topic), msg.payload) }).toEqual({ topic: msg.topic, problems: [] });
    expect(messages.filter((x) => x.retain).map((x) => suffix(x.topic))).toEqual(['alarm', 'alarm', 'models/intruder', 'snapshot']);
  });

  it('writes what subscribers read: ids, ISO times, the window, invalid readings without a value', () => {
    expect(JSON.parse(m.forecast(forecast).payload as string)).toEqual({
      id: forecast.id,
      ts: '2025-01-31T12:00:00.000Z',
      predicted_celsius: 21.37,
      horizon_s: 3600,
      unit: 'Celsius',
      based_on: { from: '2025-01-31T11:01:00.000Z', to: '2025-01-31T12:00:00.000Z', n: 60 },
      model: { name: 'temperature-forecast', version: '1' },
    });
    expect(JSON.parse(m.intruderAlert(detection).payload as string)).toMatchObject({
      id: detection.id,
      device: 'pi-1',
      schema_version: 4,
      camera: 'main',
      intruder: true,
      total_objects: 1,
      objects: [{ class: 'dog', confidence: 0.96, track_id: 't1', top_score: 0.97, stationary: false, zones: [] }],
    });
    // An end names the last objects seen, but no intruder is there any more.
    expect(JSON.parse(m.intruderAlert({ ...detection, event: 'end' }).payload as string)).toMatchObject({ intruder: false, total_objects: 1 });
    // The one camera of `camera:` keeps the topics it always had; a camera of `cameras` has its own.
    expect([m.intruderAlert(detection).topic, m.snapshot(Buffer.from('x')).topic]).toEqual(['edge/pi-1/alerts/intruder', 'edge/pi-1/snapshot']);
    const garage = { ...detection, camera: 'garage' };
    expect([m.intruderAlert(garage, 'garage').topic, m.snapshot(Buffer.from('x'), 'garage').topic]).toEqual(['edge/pi-1/alerts/intruder/garage', 'edge/pi-1/snapshot/garage']);
    expect(JSON.parse(m.intruderAlert(garage, 'garage').payload as string)).toMatchObject({ camera: 'garage' });
    const invalid = JSON.parse(m.telemetry({ valid: false, error: 'CRC mismatch', ts: 0, sensor: 's' }, 'fixed-id').payload as string);
    expect(invalid).toEqual({ id: 'fixed-id', ts: '1970-01-01T00:00:00.000Z', celsius: null, sensor: 's', valid: false, error: 'CRC mismatch' });
  });
});

describe('PayloadValidator', () => {
  it('names what is wrong', () => {
    expect(contract.problems('telemetry/temperature', '{"id":"x","ts":"yesterday","celsius":"hot","sensor":"s","valid":true}')).toEqual([
      '/id must match format "uuid"',
      '/ts must match format "date-time"',
      '/celsius must be number',
    ]);
    expect(contract.problems('status', 'sleeping')).toEqual(['payload must be one of online, offline (got "sleeping")']);
    expect(contract.problems('snapshot', Buffer.from('PNG'))).toEqual(['payload is not a JPEG']);
    expect(contract.problems('weather/rain', '{}')).toEqual(['weather/rain is not a topic of the MQTT contract']);
    expect(contract.problems('alerts/intruder', '{not json')).toEqual(['payload is not JSON']);
  });

  it('checks every command reply against the one envelope: an error needs its reason and code, an ok reply has no error', () => {
    const base = { id: '0190a0d6-7b1a-7c3e-8f00-000000000001', ts: '2026-12-04T00:00:00.000Z' };
    expect(contract.problems('cmd/model-update/response', '{}')).toContain("(payload) must have required property 'status'");
    expect(contract.problems('cmd/alarm/response', JSON.stringify({ ...base, command: 'alarm', status: 'ok', data: {} }))).toEqual([]);
    expect(contract.problems('cmd/alarm/response', JSON.stringify({ ...base, command: 'alarm', status: 'error', data: {} }))).toContain("(payload) must have required property 'error'");
    expect(contract.problems('cmd/alarm/response', JSON.stringify({ ...base, command: 'alarm', status: 'error', error: 'why', data: {} }))).toContain("/data must have required property 'code'");
    expect(contract.problems('cmd/alarm/response', JSON.stringify({ ...base, command: 'alarm', status: 'ok', error: 'why', data: {} }))).toContain('/error boolean schema is false');
  });
});

describe('topicMatches', () => {
  it('follows MQTT wildcard rules', () => {
    expect(topicMatches('edge/+/cmd/#', 'edge/pi/cmd/alarm')).toBe(true);
    expect(topicMatches('edge/+/cmd/#', 'edge/pi/cmd')).toBe(true);
    expect(topicMatches('edge/+/cmd/+', 'edge/pi/cmd/alarm/response')).toBe(false);
    expect(topicMatches('$aws/things/t/jobs/+/get/accepted', '$aws/things/t/jobs/j1/get/accepted')).toBe(true);
    expect(topicMatches('a/b', 'a/b/c')).toBe(false);
  });

  it('agrees with itself: a topic always matches itself and the filter #', () => {
    const level = fc.stringMatching(/^[a-z0-9-]{1,6}$/);
    fc.assert(
      fc.property(fc.array(level, { minLength: 1, maxLength: 6 }), (levels) => {
        const topic = levels.join('/');
        return topicMatches(topic, topic) && topicMatches('#', topic) && topicMatches(levels.map(() => '+').join('/'), topic);
      }),
    );
  });
});
