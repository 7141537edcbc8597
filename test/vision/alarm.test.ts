import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AlarmPolicy, parseAlarmCommand } from '../../agent/vision/alarm.js';
import { EventBus } from '../../agent/runtime/event-bus.js';
import { silentLogger } from '../../agent/lib/log.js';
import { MessageBuilder } from '../../agent/mqtt/messages.js';
import type { OutboxMessage } from '../../agent/store/types.js';
import { FakeAlarmOutput } from '../fakes/alarm-output.js';

function setup(hold_s = 30) {
  const output = new FakeAlarmOutput();
  const published: OutboxMessage[] = [];
  const bus = new EventBus(silentLogger());
  const events: boolean[] = [];
  bus.on('alarm', {}, (e) => events.push(e.on));
  const alarm = new AlarmPolicy({ hold_s }, {
    output,
    store: { enqueue: (m) => (published.push(...m), true) },
    messages: new MessageBuilder('edge/dev', 'dev'),
    bus,
    logger: silentLogger(),
  });
  return { alarm, output, published, events, states: () => published.map((m) => m.payload) };
}

describe('AlarmPolicy', () => {
  beforeEach(() => vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) }));
  afterEach(() => vi.useRealTimers());

  it('publishes a retained off at start, goes on at an intrusion and off after hold_s', async () => {
    const { alarm, output, published, states } = setup(30);
    await alarm.start();
    expect(published[0]).toEqual({ topic: 'edge/dev/alarm', payload: 'off', retain: true });
    alarm.trigger('intrusion start');
    await vi.advanceTimersByTimeAsync(0);
    expect(output.on).toBe(true);
    expect(alarm.isOn).toBe(true);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(output.on).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(output.on).toBe(false);
    expect(states()).toEqual(['off', 'on', 'off']);
  });

  it('extends the hold while intruders are still seen, but extend alone never switches it on', async () => {
    const { alarm, output } = setup(10);
    await alarm.start();
    alarm.extend();
    await vi.advanceTimersByTimeAsync(0);
    expect(output.on).toBe(false);
    alarm.trigger('start');
    await vi.advanceTimersByTimeAsync(8_000);
    alarm.extend();
    await vi.advanceTimersByTimeAsync(8_000);
    expect(output.on).toBe(true);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(output.on).toBe(false);
  });

  it('silence switches off and ignores intrusions for its duration', async () => {
    const { alarm, output, events } = setup(30);
    await alarm.start();
    alarm.trigger('start');
    const reply = await alarm.command({ action: 'silence', duration_s: 60 });
    expect(reply).toEqual({ alarm: 'off', silenced_until: new Date(Date.now() + 60_000).toISOString() });
    expect(output.on).toBe(false);
    alarm.trigger('again');
    await vi.advanceTimersByTimeAsync(0);
    expect(output.on).toBe(false);
    await vi.advanceTimersByTimeAsync(60_000);
    alarm.trigger('after silence');
    await vi.advanceTimersByTimeAsync(0);
    expect(output.on).toBe(true);
    expect(events).toEqual([false, true, false, true]);
  });

  it('test switches on for its duration even while silenced', async () => {
    const { alarm, output } = setup(30);
    await alarm.start();
    await alarm.command({ action: 'silence', duration_s: 600 });
    expect(await alarm.command({ action: 'test', duration_s: 3 })).toMatchObject({ alarm: 'on' });
    expect(output.on).toBe(true);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(output.on).toBe(false);
  });

  it('switches off at stop, with the alarm on', async () => {
    const { alarm, output, states } = setup(30);
    await alarm.start();
    alarm.trigger('start');
    await alarm.stop();
    expect(output.on).toBe(false);
    expect(states().at(-1)).toBe('off');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(output.levels.filter((l) => l).length).toBe(1);
  });

  it('survives a failing output and reports it in health', async () => {
    const { alarm, output } = setup(30);
    await alarm.start();
    output.failWith = 'EIO writing /sys/class/gpio/gpio17/value';
    alarm.trigger('start');
    await vi.advanceTimersByTimeAsync(0);
    expect(alarm.health()).toMatchObject({ state: 'degraded', detail: expect.stringContaining('EIO') });
    output.failWith = null;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(alarm.health().state).toBe('ok');
  });
});

describe('parseAlarmCommand', () => {
  it('reads the action with its default duration', () => {
    expect(parseAlarmCommand({ action: 'silence', duration_s: 120 }, 30)).toEqual({ action: 'silence', duration_s: 120 });
    expect(parseAlarmCommand({ action: 'silence' }, 30)).toEqual({ action: 'silence', duration_s: 30 });
    expect(parseAlarmCommand({ action: 'test' }, 30)).toEqual({ action: 'test', duration_s: 3 });
    expect(parseAlarmCommand({ action: 'off' }, 30)).toEqual({ action: 'off' });
  });

  it('names what is wrong', () => {
    expect(() => parseAlarmCommand({}, 30)).toThrow('unknown action undefined');
    expect(() => parseAlarmCommand({ action: 'dance' }, 30)).toThrow('unknown action "dance"');
    expect(() => parseAlarmCommand({ action: 'test', duration_s: -1 }, 30)).toThrow(/duration_s must be/);
  });
});
