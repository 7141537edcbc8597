/** What the relay (relay.ts) is given and takes: its store, its settings and its publish options. */
import type { connect as mqttConnect } from 'mqtt';
import type { MqttConfig } from '../config/types.js';
import type { EventBus } from '../runtime/event-bus.js';
import type { Logger } from '../lib/log.js';
import type { BackoffTiming } from '../lib/backoff.js';
import type { OutboxRow } from '../store/types.js';

/** The part of SqliteStore the relay uses. */
export interface RelayStore {
  pendingOutbox(limit: number, afterId?: number): OutboxRow[];
  deleteOutbox(ids: readonly number[]): boolean;
  outboxDepth(): number;
  onEnqueue(listener: () => void): () => void;
}

export interface RelayDeps {
  store: RelayStore;
  config: MqttConfig;
  deviceId: string;
  logger: Logger;
  bus?: EventBus;
  /** ms since the epoch, for the `published` event's latency. */
  clock?: () => number;
  /** mqtt.js `connect`, injectable for tests. */
  connect?: typeof mqttConnect;
  /** Delays between reconnect attempts (default 1 s doubling up to 30 s), each scaled by a random 0.5..1. */
  backoff?: BackoffTiming;
  /** How long stop() keeps delivering the outbox before it disconnects (default 3 s). */
  flushTimeoutMs?: number;
  /**
   * A message without PUBACK for this long means the broker dropped it (throttling, a silent ACL
   * denial...): the relay reconnects, which sends every unacknowledged message again (default 30 s).
   */
  ackTimeoutMs?: number;
  /** Publishes a second at most; default 100 with the AWS IoT profile (its per-connection limit), else none. */
  publishRate?: number | null;
}

export interface PublishOptions {
  qos?: 0 | 1;
  retain?: boolean;
}
