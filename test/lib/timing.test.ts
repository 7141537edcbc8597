import { describe, expect, it } from 'vitest';
import { AbortedError, abortableSleep, TimeoutError, valueWithin, withTimeout } from '../../agent/lib/timing.js';

/** A promise that never settles: work that hangs. */
const never = <T>() => new Promise<T>(() => undefined);

describe('abortableSleep', () => {
  it('ends early, without rejecting, when its signal aborts', async () => {
    const controller = new AbortController();
    const sleeping = abortableSleep(60_000, controller.signal);
    controller.abort();
    await expect(sleeping).resolves.toBeUndefined();
  });

  it('returns at once for a signal that has already aborted', async () => {
    await expect(abortableSleep(60_000, AbortSignal.abort())).resolves.toBeUndefined();
  });
});

describe('withTimeout', () => {
  it('settles as the work does when it is in time', async () => {
    await expect(withTimeout(Promise.resolve(7), 60_000)).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error('broken')), 60_000)).rejects.toThrow('broken');
  });

  it('rejects with a TimeoutError carrying its message when the work is late', async () => {
    const late = withTimeout(never(), 10, { message: 'no frame within 0.01 s' });
    await expect(late).rejects.toBeInstanceOf(TimeoutError);
    await expect(late).rejects.toThrow('no frame within 0.01 s');
  });

  it('rejects with an AbortedError when its signal aborts first, or has aborted already', async () => {
    const controller = new AbortController();
    const waiting = withTimeout(never(), 60_000, { signal: controller.signal, abortMessage: 'capture stopped' });
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);
    await expect(waiting).rejects.toThrow('capture stopped');
    await expect(withTimeout(Promise.resolve(1), 60_000, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);
  });
});

describe('valueWithin', () => {
  it('gives the fallback when the work is late, and the work\'s failure when it fails', async () => {
    await expect(valueWithin(never(), 10, null)).resolves.toBeNull();
    await expect(valueWithin(Promise.resolve('frame'), 60_000, null)).resolves.toBe('frame');
    await expect(valueWithin(Promise.reject(new Error('camera gone')), 60_000, null)).rejects.toThrow('camera gone');
  });
});
