/**
 * A store + relay pair on a temporary database, wired as the agent wires them, with a captured log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { defaultConfig } from '../../agent/config/load.js';
import type { MqttConfig } from '../../agent/config/types.js';
import { EventBus } from '../../agent/runtime/event-bus.js';
import { MessageBuilder } from '../../agent/mqtt/messages.js';
import { maxPayloadBytes } from '../../agent/mqtt/client-options.js';
import { MqttRelay, type RelayDeps } from '../../agent/mqtt/relay.js';
import { SqliteStore } from '../../agent/store/store.js';
import { captureLog, type CapturedLog } from '../helpers/log-capture.js';

/** Fast reconnects so tests do not wait for production backoff. */
export const FAST_BACKOFF = { baseMs: 100, maxMs: 500 };

export function mqttConfig(url: MqttConfig['url'], extra: Partial<MqttConfig> = {}): MqttConfig {
  const base = defaultConfig().mqtt;
  return { ...base, url, embedded_broker: { ...base.embedded_broker, enabled: false }, ...extra };
}

export class RelayRig {
  private constructor(
    readonly dir: string,
    readonly store: SqliteStore,
    readonly relay: MqttRelay,
    readonly messages: MessageBuilder,
    readonly log: CapturedLog,
    readonly bus: EventBus,
  ) {}

  static create(mqtt: MqttConfig, options: { deviceId?: string; relay?: Partial<RelayDeps> } = {}): RelayRig {
    const dir = mkdtempSync(join(tmpdir(), 'edge-relay-'));
    const log = captureLog();
    const bus = new EventBus(log.logger);
    // The temporary folder's random name makes the device id, and so the topics, unique per rig.
    const deviceId = options.deviceId ?? `dev-${basename(dir)}`;
    const store = SqliteStore.open(join(dir, 'edge.db'), {
      logger: log.logger,
      bus,
      config: { max_outbox_rows: 100_000, retention_days: 30 },
      maxPayloadBytes: maxPayloadBytes(mqtt),
    });
    const relay = new MqttRelay({ store, config: mqtt, deviceId, logger: log.logger, bus, backoff: FAST_BACKOFF, ...options.relay });
    return new RelayRig(dir, store, relay, new MessageBuilder(relay.baseTopic, deviceId), log, bus);
  }

  /** Enqueues `count` telemetry messages whose celsius encodes the sequence number (seq / 100). */
  enqueueReadings(from: number, count: number): void {
    for (let seq = from; seq < from + count; seq++) {
      const reading = { valid: true as const, celsius: seq / 100, ts: Date.now(), sensor: 'sim' };
      this.store.saveReading(reading, [this.messages.telemetry(reading)]);
    }
  }

  async close(): Promise<void> {
    await this.relay.stop();
    this.store.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Sequence numbers of telemetry payloads made by enqueueReadings, in arrival order. */
export function readingSeqs(payloads: { celsius: number | null }[]): number[] {
  return payloads.map((p) => Math.round((p.celsius ?? NaN) * 100));
}

/** First arrival of each value, in order: what "in order, duplicates allowed" means for at-least-once delivery. */
export function firstArrivals<T>(values: T[]): T[] {
  return [...new Set(values)];
}
