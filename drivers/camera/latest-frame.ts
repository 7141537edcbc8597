/**
 * Latest-frame-wins hand-over between a camera and its one consumer. The camera never waits: a frame
 * offered while the previous one is still unread replaces it (and counts as dropped), so a slow
 * detector always gets the newest image instead of a growing backlog of old ones.
 */
export class LatestFrameMailbox<T> {
  private pending: T | undefined;
  private waiter: ((result: IteratorResult<T, undefined>) => void) | null = null;
  /** 'ending': no more offers, the pending item is still delivered; 'closed': nothing more at all. */
  private state: 'open' | 'ending' | 'closed' = 'open';
  private droppedCount = 0;

  /** `discarded`: told of every item that is replaced or thrown away unread. */
  constructor(private readonly discarded: (item: T) => void = () => {}) {}

  get dropped(): number {
    return this.droppedCount;
  }

  offer(item: T): void {
    if (this.state !== 'open') return;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = null;
      waiter({ value: item, done: false });
      return;
    }
    if (this.pending !== undefined) {
      this.droppedCount++;
      this.discarded(this.pending);
    }
    this.pending = item;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.pending !== undefined && this.state !== 'closed') {
      const value = this.pending;
      this.pending = undefined;
      return Promise.resolve({ value, done: false });
    }
    if (this.state !== 'open') return Promise.resolve({ value: undefined, done: true });
    // A second concurrent reader would silently steal every other frame from the first.
    if (this.waiter) return Promise.reject(new Error('camera frames can be read by one loop at a time'));
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** The source is finished: the consumer still gets the pending item, then the end. */
  end(): void {
    if (this.state !== 'open') return;
    this.state = 'ending';
    this.wakeWithDone();
  }

  /** Stops at once: a pending item is discarded and a waiting reader gets the end. */
  close(): void {
    this.state = 'closed';
    if (this.pending !== undefined) this.discarded(this.pending);
    this.pending = undefined;
    this.wakeWithDone();
  }

  private wakeWithDone(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.({ value: undefined, done: true });
  }
}
