import { describe, expect, it } from 'vitest';
import { SerialQueue } from '../../agent/lib/serial-queue.js';
import { nextTurn } from '../helpers/turn.js';

/** A promise with its resolve/reject exposed, to end jobs in a chosen order. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('SerialQueue', () => {
  it('runs one job at a time, in call order', async () => {
    const runner = new SerialQueue();
    const log: string[] = [];
    const gates = [deferred(), deferred(), deferred()];
    const results = gates.map((gate, i) =>
      runner.run(async () => {
        log.push(`start ${i}`);
        await gate.promise;
        log.push(`end ${i}`);
        return i;
      }),
    );
    await nextTurn();
    expect(log).toEqual(['start 0']);
    gates[2]!.resolve(); // ending a later job early changes nothing: it has not started
    gates[0]!.resolve();
    await nextTurn();
    expect(log).toEqual(['start 0', 'end 0', 'start 1']);
    gates[1]!.resolve();
    expect(await Promise.all(results)).toEqual([0, 1, 2]);
    expect(log).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('starts the next job before the caller of the finished one resumes', async () => {
    const runner = new SerialQueue();
    const log: string[] = [];
    const first = runner.run(() => Promise.resolve('first')).then(() => log.push('first caller resumed'));
    const second = runner.run(async () => {
      log.push('second started');
    });
    await Promise.all([first, second]);
    expect(log).toEqual(['second started', 'first caller resumed']);
  });

  it('rejects only the caller of a failing job, thrown or rejected, and goes on', async () => {
    const runner = new SerialQueue();
    const thrown = runner.run(() => {
      throw new Error('sync failure');
    });
    const rejected = runner.run(() => Promise.reject(new Error('async failure')));
    const after = runner.run(() => Promise.resolve('still runs'));
    await expect(thrown).rejects.toThrow('sync failure');
    await expect(rejected).rejects.toThrow('async failure');
    expect(await after).toBe('still runs');
  });

  it('drains: resolves once every job, queued before or while draining, has finished', async () => {
    const queue = new SerialQueue();
    await queue.drain(); // an idle queue drains at once
    const gates = [deferred(), deferred()];
    const done: number[] = [];
    void queue.run(async () => {
      await gates[0]!.promise;
      done.push(0);
    });
    let drained = false;
    const draining = queue.drain().then(() => (drained = true));
    void queue.run(async () => {
      await gates[1]!.promise;
      done.push(1);
    });
    gates[0]!.resolve();
    await nextTurn();
    expect(drained).toBe(false);
    gates[1]!.resolve();
    await draining;
    expect(done).toEqual([0, 1]);
  });

  it('drains past a job that failed', async () => {
    const queue = new SerialQueue();
    const failed = queue.run(() => Promise.reject(new Error('broken')));
    await queue.drain();
    await expect(failed).rejects.toThrow('broken');
  });
});
