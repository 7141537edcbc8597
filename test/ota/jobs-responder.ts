/**
 * Plays the AWS IoT Jobs service over a real broker, following the documented device MQTT API:
 * start-next (the next IN_PROGRESS execution, else the oldest QUEUED one, which becomes IN_PROGRESS with
 * the request's statusDetails; statusDetails of an IN_PROGRESS one are left unchanged), <jobId>/update
 * (accepted, or rejected with ResourceNotFound / TerminalStateReached / InvalidRequest), and notify-next
 * whenever the first pending execution changes. Timestamps are seconds since the epoch.
 */
import { connect, type MqttClient } from 'mqtt';

type ExecutionStatus = 'QUEUED' | 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'REJECTED' | 'CANCELED';
const TERMINAL = new Set<ExecutionStatus>(['SUCCEEDED', 'FAILED', 'REJECTED', 'CANCELED']);
const DEVICE_SETTABLE = new Set(['IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'REJECTED']);

export interface FakeJob {
  jobId: string;
  document: unknown;
  status: ExecutionStatus;
  statusDetails: Record<string, string>;
  queuedAt: number;
  versionNumber: number;
  executionNumber: number;
}

export interface RecordedUpdate {
  jobId: string;
  status: string;
  statusDetails: Record<string, string>;
}

const now = () => Math.floor(Date.now() / 1000);

export class JobsResponder {
  readonly jobs: FakeJob[] = [];
  /** Every update the device sent and the service accepted, in order. */
  readonly updates: RecordedUpdate[] = [];
  /** start-next requests received. */
  startNextRequests = 0;
  private waiters = new Set<() => void>();
  private queued = 0;

  private constructor(
    private readonly client: MqttClient,
    private readonly thing: string,
  ) {}

  static async start(url: string, thingName: string): Promise<JobsResponder> {
    const client = connect(url, { clientId: `jobs-service-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 100 });
    client.on('error', () => {});
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    const responder = new JobsResponder(client, thingName);
    const prefix = `$aws/things/${thingName}/jobs/`;
    client.on('message', (topic, payload) => {
      const suffix = topic.slice(prefix.length);
      if (suffix === 'start-next') responder.onStartNext(payload);
      else if (suffix.endsWith('/update')) responder.onUpdate(suffix.slice(0, -'/update'.length), payload);
    });
    await client.subscribeAsync([`${prefix}start-next`, `${prefix}+/update`], { qos: 1 });
    return responder;
  }

  /** Queues a job (or puts one in the state a reboot left it in) and notifies the device if it is now next. */
  addJob(jobId: string, document: unknown, state: { status?: ExecutionStatus; statusDetails?: Record<string, string> } = {}): void {
    const before = this.nextPending();
    this.jobs.push({
      jobId,
      document,
      status: state.status ?? 'QUEUED',
      statusDetails: state.statusDetails ?? {},
      queuedAt: now() * 1000 + this.queued++, // keeps insertion order within a second
      versionNumber: 1,
      executionNumber: this.jobs.length + 1,
    });
    if (this.nextPending() !== before) this.notifyNext();
  }

  job(jobId: string): FakeJob {
    const job = this.jobs.find((j) => j.jobId === jobId);
    if (!job) throw new Error(`no job ${jobId}`);
    return job;
  }

  updatesOf(jobId: string): RecordedUpdate[] {
    return this.updates.filter((u) => u.jobId === jobId);
  }

  /** Resolves when the job reaches `status`; rejects after `timeoutMs` with the job's history. */
  async waitFor(jobId: string, status: ExecutionStatus, timeoutMs = 20_000): Promise<FakeJob> {
    const reached = () => this.jobs.find((j) => j.jobId === jobId)?.status === status;
    if (!reached()) {
      await new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!reached()) return;
          done();
          resolve();
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`job ${jobId} did not reach ${status} in ${timeoutMs} ms: ${JSON.stringify(this.updatesOf(jobId))}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(check);
        };
        this.waiters.add(check);
      });
    }
    return this.job(jobId);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }

  private nextPending(): FakeJob | undefined {
    const byQueue = (a: FakeJob, b: FakeJob) => a.queuedAt - b.queuedAt;
    return this.jobs.filter((j) => j.status === 'IN_PROGRESS').sort(byQueue)[0] ?? this.jobs.filter((j) => j.status === 'QUEUED').sort(byQueue)[0];
  }

  private execution(job: FakeJob) {
    return {
      jobId: job.jobId,
      thingName: this.thing,
      jobDocument: job.document,
      status: job.status,
      statusDetails: job.statusDetails,
      queuedAt: Math.floor(job.queuedAt / 1000),
      lastUpdatedAt: now(),
      versionNumber: job.versionNumber,
      executionNumber: job.executionNumber,
    };
  }

  private publish(suffix: string, body: object): void {
    void this.client.publishAsync(`$aws/things/${this.thing}/jobs/${suffix}`, JSON.stringify(body), { qos: 1 });
  }

  private notifyNext(): void {
    const next = this.nextPending();
    this.publish('notify-next', next ? { timestamp: now(), execution: this.execution(next) } : { timestamp: now() });
  }

  private onStartNext(payload: Buffer): void {
    this.startNextRequests++;
    const request = JSON.parse(payload.toString()) as { clientToken?: string; statusDetails?: Record<string, string> };
    const next = this.nextPending();
    if (!next) return this.publish('start-next/accepted', { clientToken: request.clientToken, timestamp: now() });
    if (next.status === 'QUEUED') {
      next.status = 'IN_PROGRESS';
      next.statusDetails = request.statusDetails ?? {};
      next.versionNumber++;
    }
    this.publish('start-next/accepted', { clientToken: request.clientToken, timestamp: now(), execution: this.execution(next) });
  }

  private onUpdate(jobId: string, payload: Buffer): void {
    const request = JSON.parse(payload.toString()) as { status?: string; statusDetails?: Record<string, unknown>; clientToken?: string };
    const reject = (code: string, message: string) =>
      this.publish(`${jobId}/update/rejected`, { clientToken: request.clientToken, timestamp: now(), code, message });
    const job = this.jobs.find((j) => j.jobId === jobId);
    if (!job) return reject('ResourceNotFound', `job ${jobId} not found`);
    if (TERMINAL.has(job.status)) return reject('TerminalStateReached', `job ${jobId} is ${job.status}`);
    if (!request.status || !DEVICE_SETTABLE.has(request.status)) return reject('InvalidRequest', `invalid status ${request.status}`);
    const details = request.statusDetails ?? job.statusDetails;
    for (const [key, value] of Object.entries(details)) {
      if (!/^[a-zA-Z0-9:_-]{1,128}$/.test(key) || typeof value !== 'string' || value.length < 1 || value.length > 1024 || /\p{C}/u.test(value)) {
        return reject('InvalidRequest', `invalid statusDetails entry ${key}`);
      }
    }
    const wasNext = this.nextPending();
    job.status = request.status as ExecutionStatus;
    job.statusDetails = details as Record<string, string>;
    job.versionNumber++;
    this.updates.push({ jobId, status: job.status, statusDetails: job.statusDetails });
    this.publish(`${jobId}/update/accepted`, {
      clientToken: request.clientToken,
      timestamp: now(),
      executionState: { status: job.status, statusDetails: job.statusDetails, versionNumber: job.versionNumber },
    });
    if (this.nextPending() !== wasNext) this.notifyNext();
    for (const wake of this.waiters) wake();
  }
}
