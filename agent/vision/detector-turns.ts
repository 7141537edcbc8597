/**
 * One detector, several cameras: inferences run one at a time, and the cameras waiting take turns in
 * the order they began waiting, a camera just served going to the back. A camera that always has motion
 * thus cannot starve a quiet one: while N cameras wait, each waits at most N - 1 inferences. Each
 * pipeline asks with the frame it has just gated; the camera meanwhile keeps only its newest frame
 * (latest-frame-wins), so the next turn goes to a fresh frame.
 */
export class DetectorTurns {
  private busy = false;
  /** Cameras waiting, in turn order (a Map iterates in insertion order), each with its waiting jobs. */
  private readonly waiting = new Map<string, (() => void)[]>();

  /** Runs `job` when it is `camera`'s turn, and hands the detector on when it settles. */
  async run<T>(camera: string, job: () => Promise<T>): Promise<T> {
    await this.turn(camera);
    try {
      return await job();
    } finally {
      this.handOn();
    }
  }

  private turn(camera: string): Promise<void> {
    if (!this.busy) {
      this.busy = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const queue = this.waiting.get(camera);
      if (queue) queue.push(resolve);
      else this.waiting.set(camera, [resolve]);
    });
  }

  private handOn(): void {
    const next = this.waiting.entries().next();
    if (next.done) {
      this.busy = false;
      return;
    }
    const [camera, queue] = next.value;
    const resolve = queue.shift()!;
    // Served: to the back of the line, behind every camera already waiting.
    this.waiting.delete(camera);
    if (queue.length > 0) this.waiting.set(camera, queue);
    resolve();
  }
}
