import { describe, expect, it } from 'vitest';
import { LatestFrameMailbox } from '../../../drivers/camera/latest-frame.js';

describe('LatestFrameMailbox', () => {
  it('hands a waiting reader the next item at once', async () => {
    const box = new LatestFrameMailbox<number>();
    const waiting = box.next();
    box.offer(1);
    expect(await waiting).toEqual({ value: 1, done: false });
    expect(box.dropped).toBe(0);
  });

  it('keeps only the newest unread item and counts the ones it replaced', async () => {
    const box = new LatestFrameMailbox<number>();
    for (let i = 1; i <= 5; i++) box.offer(i);
    expect(await box.next()).toEqual({ value: 5, done: false });
    expect(box.dropped).toBe(4);
  });

  it('end() still delivers the pending item, then the end; close() discards it', async () => {
    const ending = new LatestFrameMailbox<number>();
    ending.offer(7);
    ending.end();
    ending.offer(8);
    expect(await ending.next()).toEqual({ value: 7, done: false });
    expect((await ending.next()).done).toBe(true);

    const closing = new LatestFrameMailbox<number>();
    closing.offer(7);
    closing.close();
    expect((await closing.next()).done).toBe(true);
  });

  it('tells of every item replaced or thrown away unread, and of no item a reader took', async () => {
    const discarded: number[] = [];
    const box = new LatestFrameMailbox<number>((item) => discarded.push(item));
    box.offer(1);
    box.offer(2);
    expect(await box.next()).toEqual({ value: 2, done: false });
    box.offer(3);
    box.close();
    expect(discarded).toEqual([1, 3]);
  });

  it('wakes a waiting reader with the end on close()', async () => {
    const box = new LatestFrameMailbox<number>();
    const waiting = box.next();
    box.close();
    expect((await waiting).done).toBe(true);
  });

  it('refuses a second concurrent reader instead of splitting the frames between them', async () => {
    const box = new LatestFrameMailbox<number>();
    const first = box.next();
    await expect(box.next()).rejects.toThrow(/one loop at a time/);
    box.offer(1);
    expect(await first).toEqual({ value: 1, done: false });
  });
});
