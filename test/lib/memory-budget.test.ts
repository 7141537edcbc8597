import { describe, expect, it } from 'vitest';
import { MemoryBudget } from '../../agent/lib/memory-budget.js';

/** A job that runs until its `finish` is called. */
function job() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { finish, work: () => done };
}

describe('MemoryBudget', () => {
  it('runs jobs together while their bytes fit, and makes the next one wait for room', async () => {
    const budget = new MemoryBudget(100);
    const [a, b, c] = [job(), job(), job()];
    const started: string[] = [];
    const runA = budget.use(60, () => (started.push('a'), a.work()));
    const runB = budget.use(40, () => (started.push('b'), b.work()));
    const runC = budget.use(30, () => (started.push('c'), c.work()));
    await expect.poll(() => started).toEqual(['a', 'b']);
    expect(budget.inUse).toBe(100);
    expect(budget.queued).toBe(1);
    a.finish();
    await runA;
    await expect.poll(() => started).toEqual(['a', 'b', 'c']);
    expect(budget.inUse).toBe(70);
    b.finish();
    c.finish();
    await Promise.all([runB, runC]);
    expect(budget.inUse).toBe(0);
  });

  it('serves in arrival order: a small job does not overtake a large one that waits', async () => {
    const budget = new MemoryBudget(100);
    const [first, large] = [job(), job()];
    const started: string[] = [];
    const runFirst = budget.use(50, () => (started.push('first'), first.work()));
    const runLarge = budget.use(80, () => (started.push('large'), large.work()));
    const runSmall = budget.use(10, async () => void started.push('small'));
    await expect.poll(() => started).toEqual(['first']);
    first.finish();
    await runFirst;
    await expect.poll(() => started).toEqual(['first', 'large', 'small']);
    large.finish();
    await Promise.all([runLarge, runSmall]);
  });

  it('frees the bytes of a job that fails, and refuses a job larger than the budget', async () => {
    const budget = new MemoryBudget(100);
    await expect(budget.use(70, () => Promise.reject(new Error('decode failed')))).rejects.toThrow('decode failed');
    expect(budget.inUse).toBe(0);
    await expect(budget.use(101, async () => 1)).rejects.toThrow(RangeError);
    expect(await budget.use(100, async () => 'fits')).toBe('fits');
  });
});
