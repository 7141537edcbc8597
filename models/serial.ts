/**
 * Scheduling helpers for one inference session shared by concurrent callers: runs go one at a time,
 * and a small pool of input buffers lets the next frame be prepared while the current one runs.
 */

/**
 * Runs async jobs one at a time, in call order. When a job ends, the next one is started before the
 * ended job's caller resumes, so the session does not sit idle while a result is post-processed.
 */
export class SerialRunner {
  private readonly queue: (() => void)[] = [];
  private busy = false;

  run<T>(job: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push(() => {
        let running: Promise<T>;
        try {
          running = job();
        } catch (err) {
          running = Promise.reject(err as Error);
        }
        running.then(
          (value) => {
            this.startNext();
            resolve(value);
          },
          (err: unknown) => {
            this.startNext();
            reject(err as Error);
          },
        );
      });
      if (!this.busy) this.startNext();
    });
  }

  private startNext(): void {
    const next = this.queue.shift();
    this.busy = next !== undefined;
    next?.();
  }
}

/** A fixed set of reusable objects; `acquire` waits when all are taken. */
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
