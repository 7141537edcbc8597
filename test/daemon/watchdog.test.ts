/**
 * The systemd watchdog is fed only while the agent advances: on a fake monotonic clock (stalls, recovery,
 * camera restarts) and with a real event loop blocked by a synchronous computation.
 */
import { describe, expect, it, vi } from 'vitest';
import { progressFromHealth, Watchdog, type WatchdogNotifier } from '../../agent/daemon/watchdog.js';
import { captureLog } from '../helpers/log-capture.js';

function recorder(intervalMs: number | null): WatchdogNotifier & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    watchdogIntervalMs: () => intervalMs,
    watchdog: async () => void sent.push('WATCHDOG=1'),
    status: async (text) => void sent.push(`STATUS=${text}`),
  };
}

describe('Watchdog', () => {
  it('feeds while the pipelines advance, withholds the ping while one is stuck, and feeds again when it moves', () => {
    let now = 0;
    let frames = 0;
    let readings = 0;
    const notify = recorder(15_000);
    const log = captureLog();
    const dog = new Watchdog({
      notify,
      now: () => now,
      maxLagMs: 5_000,
      logger: log.logger,
      pipelines: () => [
        { name: 'vision', stallMs: 60_000, progress: () => frames },
        { name: 'telemetry', stallMs: 180_000, progress: () => readings },
      ],
    });
    const tick = () => {
      now += 15_000;
      dog.tick();
    };
    void dog.start();
    for (let i = 0; i < 4; i++) {
      frames += 10;
      readings += 1;
      tick();
    }
    expect(notify.sent).toEqual(Array(4).fill('WATCHDOG=1'));
    // The camera stops forever; readings go on. Within the bound the ping still goes.
    for (let i = 0; i < 4; i++) {
      readings += 1;
      tick();
    }
    expect(notify.sent.filter((s) => s === 'WATCHDOG=1')).toHaveLength(8);
    readings += 1;
    tick(); // 75 s without a frame
    expect(notify.sent.at(-1)).toBe('STATUS=wedged: vision has not advanced for 75 s (at most 60 s)');
    expect(dog.health()).toMatchObject({ state: 'down', detail: 'vision has not advanced for 75 s (at most 60 s)', fed: 8, withheld: 1 });
    expect(log.matching(/^not feeding the watchdog/)).toHaveLength(1);
    readings += 1;
    tick();
    expect(notify.sent.filter((s) => s === 'WATCHDOG=1')).toHaveLength(8);
    expect(log.matching(/^not feeding the watchdog/)).toHaveLength(1); // logged once per episode, not per tick
    // A frame (or a camera restart: any progress) and the ping comes back.
    frames += 1;
    tick();
    expect(notify.sent.slice(-2)).toEqual(['STATUS=running', 'WATCHDOG=1']);
    expect(dog.health()).toMatchObject({ state: 'ok', fed: 9, withheld: 2 });
    void dog.stop();
  });

  it('withholds the ping when its tick comes later than the bound (a blocked event loop), on a fake clock', () => {
    let now = 0;
    const notify = recorder(1_000);
    const dog = new Watchdog({ notify, now: () => now, maxLagMs: 2_000, logger: captureLog().logger, pipelines: () => [] });
    void dog.start();
    now += 1_000;
    dog.tick();
    now += 1_000 + 2_500; // the event loop was busy for 2.5 s
    dog.tick();
    expect(notify.sent).toEqual(['WATCHDOG=1', 'STATUS=wedged: the event loop answered 2500 ms late (at most 2000 ms)']);
    now += 1_000;
    dog.tick();
    expect(notify.sent.slice(-2)).toEqual(['STATUS=running', 'WATCHDOG=1']);
    void dog.stop();
  });

  it('with a real event loop blocked by synchronous work, the first tick after it withholds the ping', async () => {
    const notify = recorder(50);
    const dog = new Watchdog({ notify, maxLagMs: 1_000, logger: captureLog().logger, pipelines: () => [] });
    await dog.start();
    try {
      await vi.waitFor(() => expect(notify.sent).toContain('WATCHDOG=1'), { timeout: 20_000 });
      const before = notify.sent.length;
      const withheld = dog.health().withheld as number;
      const end = performance.now() + 2_500;
      while (performance.now() < end); // a runaway computation on the main thread
      await vi.waitFor(() => expect(dog.health().withheld).toBeGreaterThan(withheld), { timeout: 20_000 });
      // The first tick after the block withheld its ping: what systemd hears next is a status line, never a ping.
      await vi.waitFor(() => expect(notify.sent.length).toBeGreaterThan(before), { timeout: 20_000 });
      expect(notify.sent[before]).toMatch(/^STATUS=/);
    } finally {
      await dog.stop();
    }
  });

  it('without a systemd watchdog it sends nothing but still reports a stall in health', () => {
    let now = 0;
    const notify = recorder(null);
    const dog = new Watchdog({ notify, now: () => now, maxLagMs: 5_000, logger: captureLog().logger, pipelines: () => [{ name: 'telemetry', stallMs: 10_000, progress: () => 1 }] });
    void dog.start();
    expect(dog.health().state).toBe('ok');
    now += 11_000;
    expect(dog.health()).toMatchObject({ state: 'down', detail: 'telemetry has not advanced for 11 s (at most 10 s)' });
    dog.tick();
    expect(notify.sent.filter((s) => s === 'WATCHDOG=1')).toEqual([]);
    void dog.stop();
  });

  it('counts frames, readings, and restarts of the pipeline and of its camera as progress', () => {
    expect(progressFromHealth({ state: 'ok', frames: 5, restarts: 1, camera_stats: { restarts: 2 } })).toBe(8);
    expect(progressFromHealth({ state: 'ok', readings: 7, restarts: 0 })).toBe(7);
    expect(progressFromHealth({ state: 'ok', camera_stats: null })).toBe(0);
  });
});
