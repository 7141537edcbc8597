/**
 * Runs async jobs one at a time, in call order: one inference session shared by concurrent callers, a
 * sensor whose command sequence must not interleave, model updates, forecasts, intrusion events.
 *
 * When a job ends, the next one is started before the ended job's caller resumes, so a shared resource
 * (an inference session) does not sit idle while a result is post-processed. A job that throws or
 * rejects fails only its own caller; the queue goes on.
 */
export class SerialQueue {
  private readonly waiting: (() => void)[] = [];
  private busy = false;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: (() => void) | null = null;

  run<T>(job: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push(() => {
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

  /** Resolves once every job queued so far, and any queued while they ran, has finished. */
  drain(): Promise<void> {
    return this.idle;
  }

  private startNext(): void {
    const next = this.waiting.shift();
    if (next && !this.busy) this.idle = new Promise((resolve) => (this.markIdle = resolve));
    this.busy = next !== undefined;
    if (next) next();
    else {
      this.markIdle?.();
      this.markIdle = null;
    }
  }
}
