/**
 * A bounded queue in front of a model: at most `concurrency` runs at a time and `maxDepth` requests
 * waiting. A full queue refuses at once with an estimate of when to retry, so a flood of requests gets
 * 503s instead of unbounded latency. Requests waiting together can run as one batch (the forecaster's
 * `forecastBatch`).
 */
import { performance } from 'node:perf_hooks';

export class QueueFullError extends Error {
  constructor(
    queue: string,
    readonly retryAfterS: number,
  ) {
    super(`the ${queue} queue is full: retry in ${retryAfterS} s`);
    this.name = 'QueueFullError';
  }
}

/** The client went away while its request waited; nothing will read the answer. */
export class RequestAbortedError extends Error {
  constructor() {
    super('request aborted by the client');
    this.name = 'RequestAbortedError';
  }
}

export interface InferenceQueueOptions<I, O> {
  name: string;
  maxDepth: number;
  /** Requests taken from the queue per run; 1 unless `run` batches. */
  maxBatch?: number;
  /**
   * Runs in flight at once (default 1). onnxruntime already uses every core for one run; 2 lets the
   * detector decode the next image while it infers the current one.
   */
  concurrency?: number;
  /** Runs a batch; resolves with one output per input, in order. */
  run: (inputs: I[]) => Promise<O[]>;
}

interface Job<I, O> {
  input: I;
  resolve: (output: O) => void;
  reject: (err: unknown) => void;
  detach: () => void;
}

/** Weight of the newest run in the moving average of run times. */
const EWMA_WEIGHT = 0.2;

export class InferenceQueue<I, O> {
  private readonly waiting: Job<I, O>[] = [];
  private running = 0;
  private averageRunMs = 0;

  constructor(private readonly options: InferenceQueueOptions<I, O>) {}

  /** Requests waiting (not counting the batch that is running). */
  get depth(): number {
    return this.waiting.length;
  }

  get maxDepth(): number {
    return this.options.maxDepth;
  }

  /** Seconds until a request queued now would likely start: what a 503's Retry-After says. */
  retryAfterS(): number {
    const batches = Math.ceil((this.waiting.length + 1) / (this.options.maxBatch ?? 1));
    const rounds = Math.ceil(batches / this.concurrency);
    return Math.max(1, Math.ceil((rounds * this.averageRunMs) / 1000));
  }

  private get concurrency(): number {
    return this.options.concurrency ?? 1;
  }

  /** Every run slot is busy and `maxDepth` requests wait: the next one would be refused. */
  get full(): boolean {
    return this.running >= this.concurrency && this.waiting.length >= this.options.maxDepth;
  }

  /** Throws the QueueFullError push() would reject with, so a caller can refuse before doing any work. */
  assertRoom(): void {
    if (this.full) throw new QueueFullError(this.options.name, this.retryAfterS());
  }

  push(input: I, signal?: AbortSignal): Promise<O> {
    if (signal?.aborted) return Promise.reject(new RequestAbortedError());
    if (this.full) return Promise.reject(new QueueFullError(this.options.name, this.retryAfterS()));
    return new Promise<O>((resolve, reject) => {
      const onAbort = () => {
        const index = this.waiting.indexOf(job);
        if (index >= 0) {
          this.waiting.splice(index, 1);
          reject(new RequestAbortedError());
        }
      };
      const job: Job<I, O> = { input, resolve, reject, detach: () => signal?.removeEventListener('abort', onAbort) };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(job);
      this.drain();
    });
  }

  /** Starts batches while a run slot is free; each finished run starts the next. */
  private drain(): void {
    while (this.running < this.concurrency && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.options.maxBatch ?? 1);
      for (const job of batch) job.detach();
      this.running += 1;
      void this.runBatch(batch).finally(() => {
        this.running -= 1;
        this.drain();
      });
    }
  }

  private async runBatch(batch: Job<I, O>[]): Promise<void> {
    const started = performance.now();
    try {
      const outputs = await this.options.run(batch.map((job) => job.input));
      batch.forEach((job, i) => job.resolve(outputs[i] as O));
    } catch (err) {
      for (const job of batch) job.reject(err);
    } finally {
      const ms = performance.now() - started;
      this.averageRunMs = this.averageRunMs === 0 ? ms : this.averageRunMs + EWMA_WEIGHT * (ms - this.averageRunMs);
    }
  }
}
