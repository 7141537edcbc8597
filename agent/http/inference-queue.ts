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
    count = 1,
  ) {
    super(`${count === 1 ? `the ${queue} queue is full` : `the ${queue} queue has no room for ${count} requests`}: retry in ${retryAfterS} s`);
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

  /** Seconds until `count` requests queued now would likely all have started: what a 503's Retry-After says. */
  retryAfterS(count = 1): number {
    const batches = Math.ceil((this.waiting.length + count) / this.batchSize);
    const rounds = Math.ceil(batches / this.concurrency);
    return Math.max(1, Math.ceil((rounds * this.averageRunMs) / 1000));
  }

  private get concurrency(): number {
    return this.options.concurrency ?? 1;
  }

  private get batchSize(): number {
    return this.options.maxBatch ?? 1;
  }

  /**
   * `count` more requests can be taken now: the free run slots take a batch each at once, and `maxDepth`
   * may wait. (For one request: refused only when every slot is busy and `maxDepth` wait.)
   */
  hasRoomFor(count: number): boolean {
    return this.waiting.length + count <= this.options.maxDepth + (this.concurrency - this.running) * this.batchSize;
  }

  /** Throws the QueueFullError pushAll() would, so a caller can refuse before doing any work. */
  assertRoom(count = 1): void {
    if (!this.hasRoomFor(count)) throw new QueueFullError(this.options.name, this.retryAfterS(count), count);
  }

  push(input: I, signal?: AbortSignal): Promise<O> {
    try {
      return this.pushAll([input], signal)[0]!;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Queues every input or none (a batch request takes a place per item): throws QueueFullError when
   * there is no room for all of them, RequestAbortedError when the client is already gone. Inputs queued
   * together run together where the queue batches.
   */
  pushAll(inputs: readonly I[], signal?: AbortSignal): Promise<O>[] {
    if (signal?.aborted) throw new RequestAbortedError();
    this.assertRoom(inputs.length);
    const answers = inputs.map((input) => this.enqueue(input, signal));
    this.drain();
    return answers;
  }

  private enqueue(input: I, signal?: AbortSignal): Promise<O> {
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
    });
  }

  /** Starts batches while a run slot is free; each finished run starts the next. */
  private drain(): void {
    while (this.running < this.concurrency && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.batchSize);
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
