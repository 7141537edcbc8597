/**
 * Runs async jobs one after another. Sensors serialise read() with it: two overlapping reads must not
 * interleave a chip's command sequence or advance a replay cursor twice for one due time.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every job queued so far has finished. */
  async drain(): Promise<void> {
    await this.tail;
  }
}
