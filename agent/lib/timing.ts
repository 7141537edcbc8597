/**
 * Time as every part of the agent sees it, injected so tests run on virtual time: a clock, a sleep that
 * an AbortSignal ends early, and a deadline for a promise.
 */

export interface Clock {
  /** Wall-clock time in ms since the epoch (UTC): stamps readings, frames and messages. */
  now(): number;
  /** Monotonic ms: ages, rates and intervals, immune to the clock step a Pi (no RTC) takes when NTP syncs. */
  monotonic(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};

/** Waits `ms`; resolves early (never rejects) when `signal` aborts, so a stop can end a wait. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const abortableSleep: Sleep = (ms, signal) =>
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

/** A deadline passed; `withTimeout`'s rejection, so callers can tell it from the work's own failure. */
export class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

/** `withTimeout` was ended by its signal before the work settled. */
export class AbortedError extends Error {
  constructor(message = 'aborted') {
    super(message);
    this.name = 'AbortedError';
  }
}

export interface TimeoutOptions {
  /** The TimeoutError's message (default `timed out after <ms> ms`). */
  message?: string;
  /** Ends the wait at once with an AbortedError. */
  signal?: AbortSignal;
  /** The AbortedError's message. */
  abortMessage?: string;
}

/**
 * Settles as `work` does, unless `ms` pass first (TimeoutError) or `options.signal` aborts (AbortedError).
 * The work itself goes on: a promise cannot be cancelled, so whoever owns it must still end it.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, options: TimeoutOptions = {}): Promise<T> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(new AbortedError(options.abortMessage));
  return new Promise<T>((resolve, reject) => {
    const finish = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const timer = setTimeout(() => {
      finish();
      reject(new TimeoutError(options.message ?? `timed out after ${ms} ms`));
    }, ms);
    const onAbort = () => {
      finish();
      reject(new AbortedError(options.abortMessage));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        finish();
        resolve(value);
      },
      (err: unknown) => {
        finish();
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/** The value of `work`, or `fallback` once `ms` have passed; a failure of `work` still rejects. */
export async function valueWithin<T, F>(work: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  try {
    return await withTimeout(work, ms);
  } catch (err) {
    if (err instanceof TimeoutError) return fallback;
    throw err;
  }
}

/** Resolves once `done()` holds or `timeoutMs` have passed, looking every `everyMs`. */
export async function pollUntil(done: () => boolean, timeoutMs: number, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, everyMs));
}
