/**
 * Holds the model a pipeline uses and lets OTA swap it without a restart: the pipeline asks `current()`
 * for every frame or window, so a swap takes effect at the next one and the run in flight finishes on the
 * old session. The old model is closed once no run holds it any more.
 */
export interface ClosableModel {
  close(): Promise<void>;
}

export class ModelSlot<T extends ClosableModel> {
  private model: T | null;
  private readonly inUse = new Map<T, number>();
  private readonly retired = new Set<T>();

  constructor(initial: T | null = null) {
    this.model = initial;
  }

  current(): T | null {
    return this.model;
  }

  /** Runs `fn` with the current model, keeping it open until `fn` settles even if it is swapped meanwhile. */
  async use<R>(fn: (model: T) => Promise<R>): Promise<R> {
    const model = this.model;
    if (!model) throw new Error('no model is loaded');
    this.inUse.set(model, (this.inUse.get(model) ?? 0) + 1);
    try {
      return await fn(model);
    } finally {
      const left = (this.inUse.get(model) ?? 1) - 1;
      if (left > 0) this.inUse.set(model, left);
      else {
        this.inUse.delete(model);
        if (this.retired.delete(model)) await model.close();
      }
    }
  }

  /** Makes `next` current; the previous model is closed now or when its last run ends. */
  async swap(next: T | null): Promise<void> {
    const previous = this.model;
    this.model = next;
    if (!previous || previous === next) return;
    if (this.inUse.has(previous)) this.retired.add(previous);
    else await previous.close();
  }

  async close(): Promise<void> {
    await this.swap(null);
  }
}
