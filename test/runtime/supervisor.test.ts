import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventBus } from '../../agent/runtime/event-bus.js';
import { silentLogger } from '../../agent/lib/log.js';
import { Supervisor, type PipelineLoop } from '../../agent/runtime/supervisor.js';

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

function setup(loop: PipelineLoop) {
  const bus = new EventBus(silentLogger());
  const restarts: { pipeline: string; error: string }[] = [];
  bus.on('pipeline.restart', {}, (e) => restarts.push(e));
  const supervisor = new Supervisor('vision', loop, { bus, logger: silentLogger() }, { baseMs: 1_000, maxMs: 4_000, resetAfterMs: 60_000 });
  return { supervisor, restarts };
}

describe('Supervisor', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('restarts a crashing loop with exponential backoff, capped, and reports it', async () => {
    const startedAt: number[] = [];
    const { supervisor, restarts } = setup(async () => {
      startedAt.push(Date.now());
      throw new Error('camera vanished');
    });
    const t0 = Date.now();
    supervisor.start();
    await vi.advanceTimersByTimeAsync(0);
    // One crash: waiting to start again is not yet a failure of the agent.
    expect(supervisor.health()).toMatchObject({ state: 'degraded', restarts: 1, last_error: 'camera vanished' });
    await vi.advanceTimersByTimeAsync(1_000 + 2_000);
    expect(supervisor.health()).toMatchObject({ state: 'down', restarts: 3, detail: 'crash loop (3 crashes in a row): camera vanished' });
    await vi.advanceTimersByTimeAsync(4_000 + 4_000);
    expect(startedAt.map((t) => t - t0)).toEqual([0, 1_000, 3_000, 7_000, 11_000]);
    expect(restarts).toHaveLength(5);
    expect(restarts[0]).toEqual({ pipeline: 'vision', error: 'camera vanished' });
    await supervisor.stop();
    expect(supervisor.health().state).toBe('disabled');
  });

  it('keeps a healthy loop running and stops it through the abort signal', async () => {
    let finished = false;
    const { supervisor, restarts } = setup(async (signal) => {
      await untilAborted(signal);
      finished = true;
    });
    supervisor.start();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(supervisor.health()).toMatchObject({ state: 'ok', restarts: 0 });
    await supervisor.stop();
    expect(finished).toBe(true);
    expect(restarts).toEqual([]);
  });

  it('resets the delay after a long healthy run', async () => {
    let runs = 0;
    const { supervisor } = setup(async () => {
      runs++;
      if (runs === 4) await new Promise((r) => setTimeout(r, 60_000));
      throw new Error('boom');
    });
    supervisor.start();
    await vi.advanceTimersByTimeAsync(1_000 + 2_000); // runs 1, 2, 3
    expect(runs).toBe(3);
    expect(supervisor.health().state).toBe('down');
    await vi.advanceTimersByTimeAsync(4_000 + 60_000); // run 4 lasts a minute, then fails
    expect(runs).toBe(4);
    // After a long healthy run one crash is no crash loop.
    expect(supervisor.health().state).toBe('degraded');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(runs).toBe(5);
    await supervisor.stop();
  });

  it('treats a loop that returns on its own as a crash', async () => {
    const { supervisor, restarts } = setup(async () => {});
    supervisor.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(restarts[0]?.error).toMatch(/returned while it should be running/);
    await supervisor.stop();
  });

  it('stop() interrupts the backoff wait at once', async () => {
    const { supervisor } = setup(async () => {
      throw new Error('x');
    });
    supervisor.start();
    await vi.advanceTimersByTimeAsync(0);
    await supervisor.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
