/**
 * A fixed set of reusable objects; `acquire` waits when all are taken. The intruder model keeps its
 * input buffers in one, so the next frame is prepared while the current one runs.
 */
export class Pool<T> {
  private readonly free: T[];
  private readonly waiting: ((item: T) => void)[] = [];

  constructor(items: readonly T[]) {
    this.free = [...items];
  }

  acquire(): Promise<T> {
    const item = this.free.pop();
    return item !== undefined ? Promise.resolve(item) : new Promise((resolve) => this.waiting.push(resolve));
  }

  release(item: T): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter(item);
    else this.free.push(item);
  }
}
