import { describe, expect, it } from 'vitest';
import { InferenceQueue, QueueFullError, RequestAbortedError } from '../../agent/http/inference-queue.js';
import { nextTurn } from '../helpers/turn.js';

/** A run the test finishes by hand, so the queue's state can be observed while it is busy. */
function manualRun<I>() {
  const batches: I[][] = [];
  const finishers: (() => void)[] = [];
  const run = (inputs: I[]) =>
    new Promise<string[]>((resolve) => {
      batches.push(inputs);
      finishers.push(() => resolve(inputs.map((i) => `out:${String(i)}`)));
    });
  return { batches, run, finishNext: () => finishers.shift()?.() };
}

describe('InferenceQueue', () => {
  it('runs one batch at a time and refuses beyond maxDepth waiting requests', async () => {
    const { run, batches, finishNext } = manualRun<number>();
    const queue = new InferenceQueue({ name: 'test', maxDepth: 2, run });
    const first = queue.push(1);
    const second = queue.push(2);
    const third = queue.push(3);
    expect(queue.depth).toBe(2);
    await expect(queue.push(4)).rejects.toBeInstanceOf(QueueFullError);
    expect(batches).toEqual([[1]]);
    finishNext();
    expect(await first).toBe('out:1');
    await nextTurn();
    finishNext();
    expect(await second).toBe('out:2');
    await nextTurn();
    finishNext();
    expect(await third).toBe('out:3');
    expect(batches).toEqual([[1], [2], [3]]);
  });

  it('batches the requests that waited together, up to maxBatch', async () => {
    const { run, batches, finishNext } = manualRun<number>();
    const queue = new InferenceQueue({ name: 'test', maxDepth: 10, maxBatch: 3, run });
    const all = [1, 2, 3, 4, 5].map((i) => queue.push(i));
    for (let batch = 0; batch < 3; batch++) {
      finishNext();
      await nextTurn();
    }
    expect(await Promise.all(all)).toEqual(['out:1', 'out:2', 'out:3', 'out:4', 'out:5']);
    expect(batches).toEqual([[1], [2, 3, 4], [5]]);
  });

  it('estimates Retry-After from the measured run time and the queue ahead', async () => {
    const queue = new InferenceQueue<number, number>({
      name: 'slow',
      maxDepth: 1,
      run: (inputs) => new Promise((resolve) => setTimeout(() => resolve(inputs), 600)),
    });
    await queue.push(0);
    await nextTurn();
    const running = queue.push(1);
    const waiting = queue.push(2);
    const refused = await queue.push(3).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(QueueFullError);
    // One waiting request plus this one, about 0.6 s each.
    expect((refused as QueueFullError).retryAfterS).toBe(2);
    expect((refused as Error).message).toMatch(/the slow queue is full: retry in 2 s/);
    await Promise.all([running, waiting]);
  });

  it('keeps `concurrency` runs in flight and starts the next as soon as one ends', async () => {
    const { run, batches, finishNext } = manualRun<number>();
    const queue = new InferenceQueue({ name: 'test', maxDepth: 1, concurrency: 2, run });
    const all = [1, 2, 3].map((i) => queue.push(i));
    expect(batches).toEqual([[1], [2]]);
    expect(queue.depth).toBe(1);
    await expect(queue.push(4)).rejects.toBeInstanceOf(QueueFullError);
    finishNext();
    await nextTurn();
    expect(batches).toEqual([[1], [2], [3]]);
    finishNext();
    finishNext();
    expect(await Promise.all(all)).toEqual(['out:1', 'out:2', 'out:3']);
  });

  it('drops a waiting request whose client went away', async () => {
    const { run, batches, finishNext } = manualRun<number>();
    const queue = new InferenceQueue({ name: 'test', maxDepth: 5, run });
    const first = queue.push(1);
    const controller = new AbortController();
    const abandoned = queue.push(2, controller.signal);
    controller.abort();
    await expect(abandoned).rejects.toBeInstanceOf(RequestAbortedError);
    expect(queue.depth).toBe(0);
    finishNext();
    await first;
    expect(batches).toEqual([[1]]);
  });

  it('rejects every request of a batch whose run failed, and keeps serving', async () => {
    let fail = true;
    const queue = new InferenceQueue<number, number>({
      name: 'test',
      maxDepth: 5,
      run: async (inputs) => {
        if (fail) throw new Error('model exploded');
        return inputs;
      },
    });
    await expect(queue.push(1)).rejects.toThrow('model exploded');
    fail = false;
    expect(await queue.push(2)).toBe(2);
  });

  it('queues a batch whole or not at all, and runs what was queued together as one batch', async () => {
    const { run, batches, finishNext } = manualRun<number>();
    const queue = new InferenceQueue({ name: 'test', maxDepth: 2, maxBatch: 3, run });
    // Idle: one run slot takes a batch of 3 at once and 2 may wait, so 6 do not fit.
    expect(() => queue.pushAll([1, 2, 3, 4, 5, 6])).toThrow('the test queue has no room for 6 requests');
    expect(queue.depth).toBe(0);
    expect(batches).toEqual([]);
    const first = queue.pushAll([1, 2, 3, 4, 5]);
    expect(batches).toEqual([[1, 2, 3]]);
    expect(queue.depth).toBe(2);
    expect(() => queue.pushAll([6])).toThrow(QueueFullError);
    expect(queue.depth).toBe(2);
    finishNext();
    await nextTurn();
    expect(batches).toEqual([[1, 2, 3], [4, 5]]);
    const second = queue.pushAll([6, 7]);
    finishNext();
    await nextTurn();
    finishNext();
    expect(await Promise.all([...first, ...second])).toEqual([1, 2, 3, 4, 5, 6, 7].map((i) => `out:${i}`));
    expect(batches).toEqual([[1, 2, 3], [4, 5], [6, 7]]);
  });

  it('refuses a whole batch for a client already gone', () => {
    const queue = new InferenceQueue({ name: 'test', maxDepth: 5, run: manualRun<number>().run });
    expect(() => queue.pushAll([1, 2], AbortSignal.abort())).toThrow(RequestAbortedError);
    expect(queue.depth).toBe(0);
  });
});
