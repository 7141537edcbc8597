/**
 * A number of bytes shared by concurrent work that needs memory for a while (image decodes): each job
 * takes what it will cost and gives it back when it ends; a job that does not fit waits, first come first
 * served, so a large job is not starved by a stream of small ones. What bounds the work in flight is then
 * the memory it takes, not how many jobs there are.
 */
export class MemoryBudget {
  private used = 0;
  private readonly waiting: { bytes: number; start: () => void }[] = [];

  constructor(readonly capacityBytes: number) {
    if (!(capacityBytes > 0)) throw new RangeError(`a memory budget needs a positive capacity, got ${capacityBytes}`);
  }

  /** Bytes taken by the jobs running now. */
  get inUse(): number {
    return this.used;
  }

  /** Jobs waiting for room. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Runs `work` once `bytes` are free (after the jobs that came before), and frees them when it settles.
   * A job larger than the whole budget could never run: RangeError (check before calling).
   */
  async use<T>(bytes: number, work: () => Promise<T>): Promise<T> {
    if (!(bytes >= 0) || bytes > this.capacityBytes) throw new RangeError(`a job of ${bytes} bytes does not fit a budget of ${this.capacityBytes}`);
    await new Promise<void>((start) => {
      this.waiting.push({ bytes, start });
      this.startWaiting();
    });
    try {
      return await work();
    } finally {
      this.used -= bytes;
      this.startWaiting();
    }
  }

  /** Starts waiting jobs in order while the first one fits. */
  private startWaiting(): void {
    for (let next = this.waiting[0]; next && this.used + next.bytes <= this.capacityBytes; next = this.waiting[0]) {
      this.waiting.shift();
      this.used += next.bytes;
      next.start();
    }
  }
}
