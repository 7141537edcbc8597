import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../agent/lib/log.js';
import type { ModelUpdatePayload } from '../../agent/mqtt/contract/topics.js';
import { MessageBuilder } from '../../agent/mqtt/messages.js';
import { ModelUpdateState, parseAnnouncement } from '../../agent/ota/update-state.js';
import { EventBus } from '../../agent/runtime/event-bus.js';
import type { OutboxMessage } from '../../agent/store/types.js';

const SHA = 'a'.repeat(64);
const BASE = 'edge/pi';

describe('parseAnnouncement', () => {
  it('takes {version, url, sha256, signature?, summary?, name?} and cuts the summary to 255 characters', () => {
    const announcement = parseAnnouncement('intruder', Buffer.from(JSON.stringify({ version: '3', url: 'https://m/x.onnx', sha256: SHA, signature: 'c2ln', summary: 'x'.repeat(300) })));
    expect(announcement.request).toEqual({ role: 'intruder', version: '3', url: 'https://m/x.onnx', sha256: SHA, signature: 'c2ln' });
    expect(announcement.summary).toHaveLength(255);
  });

  it.each([
    ['not JSON', 'nope', /not valid JSON/],
    ['no url', JSON.stringify({ version: '3', sha256: SHA }), /'url' is required/],
    ['a bad sha256', JSON.stringify({ version: '3', url: 'https://m/x.onnx', sha256: 'abc' }), /sha256 must be 64 hexadecimal/],
    ['a bad version', JSON.stringify({ version: '../3', url: 'https://m/x.onnx', sha256: SHA }), /version/],
    ['a summary that is not text', JSON.stringify({ version: '3', url: 'https://m/x.onnx', sha256: SHA, summary: 7 }), /'summary' must be a string/],
  ])('refuses %s, naming the field', (_what, payload, message) => {
    expect(() => parseAnnouncement('intruder', Buffer.from(payload))).toThrow(message);
  });
});

describe('ModelUpdateState', () => {
  function rig() {
    const queued: OutboxMessage[] = [];
    const handlers = new Map<string, (topic: string, payload: Buffer) => void>();
    const bus = new EventBus(silentLogger());
    const state = new ModelUpdateState({
      mqtt: { baseTopic: BASE, subscribe: (filter, handler) => (handlers.set(filter, handler), () => handlers.delete(filter)) },
      outbox: { enqueue: (messages) => (queued.push(...messages), true) },
      messages: new MessageBuilder(BASE, 'pi'),
      bus,
      // The detector serves version 1; the forecaster role has no pipeline here.
      serving: (role) => (role === 'intruder' ? { name: 'yolov8n', version: '1' } : undefined),
      logger: silentLogger(),
    });
    const states = () => queued.filter((m) => m.topic === `${BASE}/models/intruder/update`).map((m) => JSON.parse(String(m.payload)) as ModelUpdatePayload);
    const announce = (role: string, body: unknown) => handlers.get(`${BASE}/models/+/available`)!(`${BASE}/models/${role}/available`, Buffer.from(body === '' ? '' : JSON.stringify(body)));
    return { queued, handlers, bus, state, states, announce };
  }

  it('publishes only for roles a pipeline serves, and ignores announcements for the others', () => {
    const { queued, state, announce } = rig();
    state.start();
    expect(queued.map((m) => [m.topic, m.retain])).toEqual([[`${BASE}/models/intruder/update`, true]]);
    announce('forecast', { version: '2', url: 'https://m/f.onnx', sha256: SHA });
    announce('camera', { version: '2', url: 'https://m/f.onnx', sha256: SHA });
    expect(queued).toHaveLength(1);
    expect(state.announced('forecast')).toBeNull();
    state.stop();
  });

  it('follows an install: one message per stage and per 10 % of the download, then the new installed version', () => {
    const { bus, state, states, announce } = rig();
    state.start();
    announce('intruder', { version: '2', url: 'https://m/x.onnx', sha256: SHA, summary: 'better' });
    expect(states().at(-1)).toMatchObject({ installed_version: '1', latest_version: '2', release_summary: 'better', in_progress: false });
    expect(state.announced('intruder')).toMatchObject({ role: 'intruder', version: '2' });

    const before = states().length;
    bus.emit('model.update.progress', { role: 'intruder', version: '2', stage: 'downloading', percent: null });
    for (let percent = 0; percent <= 100; percent++) bus.emit('model.update.progress', { role: 'intruder', version: '2', stage: 'downloading', percent });
    bus.emit('model.update.progress', { role: 'intruder', version: '2', stage: 'verifying', percent: null });
    bus.emit('model.update.progress', { role: 'intruder', version: '2', stage: 'validating', percent: null });
    bus.emit('model.activated', { role: 'intruder', name: 'yolov8n', version: '2' });
    const during = states().slice(before, -1);
    expect(during.every((s) => s.in_progress)).toBe(true);
    expect(during.map((s) => s.update_percentage)).toEqual([null, 0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, null]);
    expect(states().at(-1)).toMatchObject({ installed_version: '2', latest_version: '2', in_progress: false, update_percentage: null });

    bus.emit('model.update.failed', { role: 'intruder', version: '3', error: 'sha256 mismatch' });
    expect(states().at(-1)).toMatchObject({ installed_version: '2', in_progress: false, release_summary: 'installing 3 failed: sha256 mismatch' });
    announce('intruder', ''); // withdrawn
    expect(states().at(-1)).toMatchObject({ latest_version: '2' });
    expect(state.announced('intruder')).toBeNull();
    state.stop();
  });
});
