/** Time sources injected into sensors so tests run on a virtual clock instead of waiting. */

/** Wall-clock time in ms since the epoch (readings' `ts`). */
export type Clock = () => number;

/** Waits `ms`; resolves early (never rejects) when `signal` aborts, so `close()` can end a wait. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const systemClock: Clock = () => Date.now();

export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  });
