import { describe, expect, it } from 'vitest';
import { Pool } from '../../models/pool.js';
import { nextTurn } from '../helpers/turn.js';

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
