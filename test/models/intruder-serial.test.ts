import { describe, expect, it } from 'vitest';
import { Pool, SerialRunner } from '../../models/serial.js';
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

describe('SerialRunner', () => {
  it('runs one job at a time, in call order', async () => {
    const runner = new SerialRunner();
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
    const runner = new SerialRunner();
    const log: string[] = [];
    const first = runner.run(() => Promise.resolve('first')).then(() => log.push('first caller resumed'));
    const second = runner.run(async () => {
      log.push('second started');
    });
    await Promise.all([first, second]);
    expect(log).toEqual(['second started', 'first caller resumed']);
  });

  it('rejects only the caller of a failing job, thrown or rejected, and goes on', async () => {
    const runner = new SerialRunner();
    const thrown = runner.run(() => {
      throw new Error('sync failure');
    });
    const rejected = runner.run(() => Promise.reject(new Error('async failure')));
    const after = runner.run(() => Promise.resolve('still runs'));
    await expect(thrown).rejects.toThrow('sync failure');
    await expect(rejected).rejects.toThrow('async failure');
    expect(await after).toBe('still runs');
  });
});

describe('Pool', () => {
  it('hands out its items, makes callers wait when all are taken, and serves them in order', async () => {
    const pool = new Pool(['a', 'b']);
    const taken = [await pool.acquire(), await pool.acquire()].sort();
    expect(taken).toEqual(['a', 'b']);
    const order: string[] = [];
    const third = pool.acquire().then((item) => order.push(`third got ${item}`));
    const fourth = pool.acquire().then((item) => order.push(`fourth got ${item}`));
    await nextTurn();
    expect(order).toEqual([]);
    pool.release('b');
    pool.release('a');
    await Promise.all([third, fourth]);
    expect(order).toEqual(['third got b', 'fourth got a']);
  });
});
