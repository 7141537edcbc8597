/**
 * The only code that sends data messages to the broker. It publishes outbox rows oldest first at
 * QoS 1 with at most `max_inflight` unacknowledged, and deletes a row only when its PUBACK arrives, so
 * a message is lost neither by a broker outage nor by a crash (at-least-once: subscribers de-duplicate
 * by `id`). Never QoS 2: AWS IoT Core does not have it.
 *
 * Each connection attempt uses a fresh mqtt.js client with its own reconnect switched off: after a
 * drop, every row not yet acknowledged is simply sent again, oldest first, on the next connection;
 * nothing of the old connection's in-memory state can race with it. Reconnects back off exponentially.
 * With several broker URLs, BrokerRotation (failover.ts) picks the broker of each attempt.
 */
import { connect as mqttConnect, type ISubscriptionGrant, type MqttClient } from 'mqtt';
import type { ComponentHealth, Service } from '../runtime/service.js';
import type { Logger } from '../lib/log.js';
import { brokerUrls, buildClientOptions, isAwsIot, isPlaceholderBroker, maxPayloadBytes, mqttBaseTopic } from './client-options.js';
import { BrokerRotation } from './failover.js';
import { redactUrl } from '../lib/redact-url.js';
import { Backoff, type BackoffTiming } from '../lib/backoff.js';
import { OutboxCursor } from '../store/outbox-cursor.js';
import { describeConnectError } from './connect-errors.js';
import { TokenBucket } from '../lib/token-bucket.js';
import { pollUntil, withTimeout } from '../lib/timing.js';
import { Subscriptions, type MessageHandler } from './subscriptions.js';
import type { PublishOptions, RelayDeps } from './relay-types.js';
import type { OutboxRow } from '../store/types.js';
import { Topic } from './contract/topics.js';

export type { MessageHandler } from './subscriptions.js';

export type { PublishOptions, RelayDeps, RelayStore } from './relay-types.js';

/** A connection that lasted this long resets the backoff; shorter ones (kicked at once) keep growing it. */
const STABLE_CONNECTION_MS = 30_000;
const STOP_PUBLISH_TIMEOUT_MS = 1_000;
const RECONNECT_BACKOFF: BackoffTiming = { baseMs: 1_000, maxMs: 30_000 };
const AWS_IOT_PUBLISHES_PER_SECOND = 100;
/** Outbox rows read from the store at a time while a backlog drains. */
const READ_AHEAD_ROWS = 512;

export class MqttRelay implements Service {
  readonly name = 'mqtt';
  readonly baseTopic: string;
  private readonly log: Logger;
  /** null when every configured URL is the example's placeholder: nothing to connect to. */
  private readonly brokers: BrokerRotation | null;
  /** The broker of the last failed attempt or lost connection, which the reason in health() is about. */
  private failedUrl: string | null = null;
  private readonly subscriptions: Subscriptions;
  private readonly backoff: Backoff;
  private client: MqttClient | null = null;
  private isConnected = false;
  private running = false;
  private stopping = false;
  private connectedAt = 0;
  /** Rows published on this connection and not yet acknowledged: id -> when it was sent, oldest first. */
  private readonly inflight = new Map<number, number>();
  /** Where this connection is in the outbox: the next rows to publish. */
  private readonly cursor: OutboxCursor;
  private acked: number[] = [];
  private ackFlush: NodeJS.Immediate | null = null;
  private pumpScheduled = false;
  private pumpTimer: NodeJS.Timeout | null = null;
  private ackWatchdog: NodeJS.Timeout | null = null;
  private readonly rate: TokenBucket | null;
  private retryTimer: NodeJS.Timeout | null = null;
  private lastError: unknown = null;
  private lastReason: string | null = null;
  private nextAttemptAt: number | null = null;
  private unsubscribeEnqueue: (() => void) | null = null;

  constructor(private readonly deps: RelayDeps) {
    this.baseTopic = mqttBaseTopic(deps.config, deps.deviceId);
    this.log = deps.logger.child({ module: 'mqtt' });
    // Placeholders are never contacted, not even by DNS (see isPlaceholderBroker).
    const urls = brokerUrls(deps.config).filter((url) => !isPlaceholderBroker(url));
    this.brokers = urls.length > 0 ? new BrokerRotation(urls) : null;
    this.subscriptions = new Subscriptions(this.log);
    this.backoff = new Backoff(deps.backoff ?? RECONNECT_BACKOFF);
    this.cursor = new OutboxCursor(deps.store, READ_AHEAD_ROWS);
    const perSecond = deps.publishRate === undefined ? (isAwsIot(deps.config) ? AWS_IOT_PUBLISHES_PER_SECOND : null) : deps.publishRate;
    this.rate = perSecond === null ? null : new TokenBucket(perSecond, perSecond, () => this.now());
  }

  get connected(): boolean {
    return this.isConnected;
  }

  /** Starts connecting and returns at once: the agent runs (and buffers) while the broker is away. */
  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    this.running = true;
    this.unsubscribeEnqueue = this.deps.store.onEnqueue(() => this.schedulePump());
    this.connectNow();
    return Promise.resolve();
  }

  /**
   * Keeps delivering for up to `flushTimeoutMs` while rows are waiting, then publishes a retained
   * `offline` and disconnects cleanly. Acknowledged rows are deleted before it returns, so the store
   * can be closed right after.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.stopping = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const client = this.client;
    if (client && this.isConnected) {
      const flushMs = this.deps.flushTimeoutMs ?? 3_000;
      // Still listening to the store: rows written just before stop() are committed at the end of that job.
      await pollUntil(() => !this.isConnected || this.deps.store.outboxDepth() <= this.acked.length, flushMs);
      if (this.isConnected) {
        await withTimeout(this.publishOn(client, this.statusTopic(), 'offline', { qos: 1, retain: true }), STOP_PUBLISH_TIMEOUT_MS).catch(
          (err: unknown) => this.log.warn({ err }, 'could not publish the offline status'),
        );
      }
    }
    this.unsubscribeEnqueue?.();
    this.unsubscribeEnqueue = null;
    this.running = false;
    // A clean DISCONNECT (so the broker does not send the will); PUBACKs still arriving are kept.
    if (client && client === this.client) {
      await withTimeout(client.endAsync(false), STOP_PUBLISH_TIMEOUT_MS).catch(() => client.end(true));
    }
    this.flushAcks();
    this.clearConnectionTimers();
    this.client = null;
    this.isConnected = false;
    this.stopping = false;
    this.inflight.clear();
    this.deps.bus?.emit('mqtt.connection', { connected: false, reason: 'stopped' });
    this.log.info({ outbox: this.deps.store.outboxDepth() }, 'disconnected from the broker');
  }

  health(): ComponentHealth {
    const outbox = this.deps.store.outboxDepth();
    // `url` is the broker in use (connected) or of the next attempt; `brokers` only with failover.
    const where = (this.brokers?.size ?? 1) > 1 ? { url: this.url, brokers: brokerUrls(this.deps.config).map(redactUrl) } : { url: this.url };
    if (this.isConnected) return { state: 'ok', connected: true, ...where, outbox, inflight: this.inflight.size };
    if (!this.running) return { state: 'down', detail: 'not started', connected: false, ...where, outbox };
    const seconds = this.nextAttemptAt === null ? null : Math.max(0, Math.ceil((this.nextAttemptAt - this.now()) / 1000));
    const retry = seconds === null ? '' : `; ${this.brokers?.nextAttempt(redactUrl) ?? 'retrying'} in ${seconds} s`;
    const reason = this.lastReason ?? 'connecting';
    // Degraded, not down: without the broker the agent still detects, alarms and buffers (the outbox).
    const detail = `not connected to ${this.failedUrl ?? this.url}: ${reason}${retry}; ${outbox} message(s) waiting`;
    return { state: 'degraded', detail, connected: false, ...where, outbox };
  }

  /**
   * Calls `handler` for every message matching `topicFilter` (MQTT wildcards), from now on and after
   * every reconnect. Returns a function that removes the handler.
   */
  subscribe(topicFilter: string, handler: MessageHandler): () => void {
    if (this.subscriptions.add(topicFilter, handler) && this.isConnected) this.subscribeOn(this.client!, [topicFilter]);
    return () => {
      if (this.subscriptions.remove(topicFilter, handler) && this.isConnected) this.client?.unsubscribe(topicFilter);
    };
  }

  /**
   * Publishes a control-plane message (command replies to AWS IoT Jobs, not data) straight away,
   * bypassing the outbox: rejects when not connected, and resolves on PUBACK for QoS 1.
   */
  publishDirect(topic: string, payload: string | Buffer, options: PublishOptions = {}): Promise<void> {
    const client = this.client;
    if (!client || !this.isConnected) return Promise.reject(new Error(`not connected to ${this.url}`));
    const limit = maxPayloadBytes(this.deps.config);
    const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    if (limit !== null && size > limit) {
      return Promise.reject(new Error(`payload to ${topic} is ${size} bytes, over the broker's limit of ${limit} bytes`));
    }
    return this.publishOn(client, topic, payload, { qos: options.qos ?? 1, retain: options.retain ?? false });
  }

  private connectNow(): void {
    this.retryTimer = null;
    this.nextAttemptAt = null;
    if (!this.running) return;
    if (!this.brokers) {
      // No retry: the address cannot change without a restart, and the owner has not chosen a broker yet.
      this.lastReason = `mqtt.url is not configured yet (${this.url} is the example's placeholder): set your broker's address`;
      this.log.warn(this.lastReason);
      return;
    }
    const url = this.brokers.current;
    let client: MqttClient;
    try {
      client = (this.deps.connect ?? mqttConnect)(url, buildClientOptions(this.deps.config, this.deps.deviceId, url));
    } catch (err) {
      // An unreadable certificate or password file: say so, and try again (it may be provisioned later).
      this.retryLater(describeConnectError(err, this.url), false);
      return;
    }
    this.client = client;
    this.lastError = null;
    client.on('connect', () => client === this.client && this.onConnect(client));
    client.on('message', (topic, payload) => client === this.client && this.subscriptions.dispatch(topic, payload));
    // Always listened to: an 'error' with no listener would throw out of mqtt.js.
    client.on('error', (err) => {
      if (client === this.client) this.lastError = err;
    });
    client.on('close', () => client === this.client && this.onClose(client));
  }

  private onConnect(client: MqttClient): void {
    // Nagle's algorithm would hold a PUBLISH back until the TCP ACK of the previous segment, which the
    // broker may delay by up to 40 ms: with a bounded window that stalls delivery. mqtt.js leaves it on.
    (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    this.isConnected = true;
    this.connectedAt = this.now();
    this.lastReason = null;
    this.failedUrl = null;
    this.brokers?.connected();
    this.log.info({ url: this.url, outbox: this.deps.store.outboxDepth() }, `connected to ${this.url}`);
    this.deps.bus?.emit('mqtt.connection', { connected: true });
    this.publishOn(client, this.statusTopic(), 'online', { qos: 1, retain: true }).catch((err: unknown) =>
      this.log.warn({ err }, 'could not publish the online status'),
    );
    const filters = this.subscriptions.filters();
    if (filters.length > 0) this.subscribeOn(client, filters);
    this.inflight.clear();
    this.cursor.rewind();
    const ackTimeout = this.deps.ackTimeoutMs ?? 30_000;
    this.ackWatchdog = setInterval(() => this.checkAcks(client, ackTimeout), Math.max(100, ackTimeout / 4));
    this.pump();
  }

  private checkAcks(client: MqttClient, timeoutMs: number): void {
    const oldest = this.inflight.values().next();
    if (oldest.done || this.now() - oldest.value < timeoutMs) return;
    this.lastError = new Error(`no acknowledgement (PUBACK) for ${timeoutMs / 1000} s, so the unacknowledged messages go again on a new connection`);
    client.end(true); // closes: onClose() reconnects
  }

  private clearConnectionTimers(): void {
    if (this.ackWatchdog) clearInterval(this.ackWatchdog);
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    this.ackWatchdog = null;
    this.pumpTimer = null;
  }

  private onClose(client: MqttClient): void {
    if (!this.running) return; // stop() is closing it
    const wasConnected = this.isConnected;
    this.client = null;
    this.isConnected = false;
    this.inflight.clear();
    this.clearConnectionTimers();
    // Fails the old client's pending callbacks; they are ignored, their rows go again on the next connection.
    client.end(true);
    const reason = describeConnectError(this.lastError ?? new Error('the connection closed'), this.url, wasConnected);
    if (wasConnected) {
      if (this.now() - this.connectedAt >= STABLE_CONNECTION_MS) this.backoff.reset();
      this.deps.bus?.emit('mqtt.connection', { connected: false, reason });
    }
    if (!this.stopping) this.retryLater(reason, wasConnected);
  }

  private retryLater(reason: string, wasConnected: boolean): void {
    const failed = this.url;
    // After a lost connection the same broker is tried again first; a failed attempt moves to the next
    // broker at once, until every broker has failed in a row (failover.ts).
    const roundOver = wasConnected || (this.brokers?.failed() ?? true);
    // Jitter: a fleet that lost the broker together does not come back in lock-step (AWS IoT Core
    // throttles bursts of connections).
    const delay = roundOver ? Math.round(this.backoff.nextDelayMs() * (0.5 + Math.random() / 2)) : 0;
    this.lastReason = reason;
    this.failedUrl = failed;
    this.nextAttemptAt = this.now() + delay;
    const outbox = this.deps.store.outboxDepth();
    const what = wasConnected ? `lost the connection to ${failed}` : `cannot connect to ${failed}`;
    this.log.warn({ url: failed, next_url: this.url, retry_in_ms: delay, outbox }, `${what}: ${reason}; ${this.brokers?.nextAttempt(redactUrl) ?? 'retrying'} in ${(delay / 1000).toFixed(1)} s`);
    this.retryTimer = setTimeout(() => this.connectNow(), delay);
  }

  private subscribeOn(client: MqttClient, filters: string[]): void {
    client.subscribe(filters, { qos: 1 }, (err, granted) => {
      if (err) this.log.warn({ err, filters }, 'subscribe failed');
      for (const g of granted ?? []) if (refused(g)) this.log.warn({ filter: g.topic }, `the broker refused the subscription to ${g.topic}`);
    });
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Fills the in-flight window with the oldest rows not yet sent on this connection. */
  private pump(): void {
    const client = this.client;
    if (!client || !this.isConnected) return;
    const window = this.deps.config.max_inflight;
    try {
      while (this.inflight.size < window) {
        const rows = this.cursor.peek(window - this.inflight.size);
        if (rows.length === 0) return;
        const granted = this.rate ? this.rate.take(rows.length) : rows.length;
        for (let i = 0; i < granted; i++) this.send(client, rows[i]!);
        this.cursor.take(granted);
        if (granted < rows.length) return this.pumpAfter(Math.max(1, this.rate!.msUntilNext()));
      }
    } catch (err) {
      // A failed read (I/O error) must not stop delivery for good: try again shortly.
      this.log.error({ err }, 'reading the outbox failed');
      this.pumpAfter(1_000);
    }
  }

  private pumpAfter(ms: number): void {
    this.pumpTimer ??= setTimeout(() => {
      this.pumpTimer = null;
      this.pump();
    }, ms);
  }

  private send(client: MqttClient, row: OutboxRow): void {
    this.inflight.set(row.id, this.now());
    client.publish(row.topic, row.payload, { qos: 1, retain: row.retain }, (err) => {
      if (err || client !== this.client) return;
      this.inflight.delete(row.id);
      this.acked.push(row.id);
      this.deps.bus?.emit('published', { topic: row.topic, latency_ms: this.now() - row.created_at });
      // PUBACKs arrive in bursts: delete them in one transaction (one fsync), then refill the window.
      this.ackFlush ??= setImmediate(() => this.flushAcks());
    });
  }

  private flushAcks(): void {
    if (this.ackFlush) clearImmediate(this.ackFlush);
    this.ackFlush = null;
    if (this.acked.length > 0) {
      const ids = this.acked;
      this.acked = [];
      this.deps.store.deleteOutbox(ids);
    }
    if (this.running) this.pump();
  }

  private publishOn(client: MqttClient, topic: string, payload: string | Buffer, options: Required<PublishOptions>): Promise<void> {
    return new Promise((resolve, reject) => {
      client.publish(topic, payload, options, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** The broker in use, or of the next attempt (credentials redacted). */
  private get url(): string {
    return redactUrl(this.brokers?.current ?? brokerUrls(this.deps.config)[0]!);
  }

  private statusTopic(): string {
    return `${this.baseTopic}/${Topic.status}`;
  }

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }
}

function refused(grant: ISubscriptionGrant): boolean {
  return (grant.qos as number) === 128;
}

