/**
 * A test subscriber that collects every message on some topic filters. With a fixed client id and
 * `clean: false` it keeps a persistent session (QoS 1), so messages published while it reconnects
 * after a broker restart are queued for it rather than lost to the test.
 */
import { readFileSync } from 'node:fs';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { CertFiles } from './pki.js';

export interface ReceivedMessage {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

export interface SubscriberOptions {
  /** Persistent session under this client id (default: a clean session with a random id). */
  clientId?: string;
  tls?: { ca: string } & CertFiles;
}

export class MqttSubscriber {
  readonly messages: ReceivedMessage[] = [];
  private waiters = new Set<() => void>();

  private constructor(private readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      this.messages.push({ topic, payload, retain: packet.retain });
      for (const wake of this.waiters) wake();
    });
  }

  static async connect(url: string, filters: string | string[], options: SubscriberOptions = {}): Promise<MqttSubscriber> {
    const opts: IClientOptions = {
      clientId: options.clientId ?? `test-sub-${Math.random().toString(16).slice(2)}`,
      clean: options.clientId === undefined,
      reconnectPeriod: 100,
      connectTimeout: 5_000,
    };
    if (options.tls) {
      opts.ca = readFileSync(options.tls.ca);
      opts.cert = readFileSync(options.tls.cert);
      opts.key = readFileSync(options.tls.key);
    }
    const client = connect(url, opts);
    client.on('error', () => {}); // reconnects on its own; a test asserts on messages, not on this
    const subscriber = new MqttSubscriber(client);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      setTimeout(() => reject(new Error(`test subscriber could not connect to ${url}`)), 5_000).unref();
    });
    await client.subscribeAsync(filters, { qos: 1 });
    return subscriber;
  }

  on(topic: string): ReceivedMessage[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  /** The JSON payloads received on `topic`, in arrival order. */
  json<T = Record<string, unknown>>(topic: string): T[] {
    return this.on(topic).map((m) => JSON.parse(m.payload.toString('utf8')) as T);
  }

  /**
   * Resolves once some message received so far (or later) matches. Each message is looked at once, so
   * thousands of arrivals stay cheap, and a redelivered duplicate arriving after the awaited message
   * (at-least-once delivery) cannot hide it, as a look at only the newest message would.
   */
  async waitForMessage(match: (message: ReceivedMessage) => boolean, timeoutMs: number, what: string): Promise<void> {
    let next = 0;
    await this.waitFor(
      (messages) => {
        for (; next < messages.length; next++) if (match(messages[next]!)) return true;
        return false;
      },
      timeoutMs,
      what,
    );
  }

  /** Resolves once `done(messages)` holds; rejects after `timeoutMs` saying what it waited for. */
  async waitFor(done: (messages: ReceivedMessage[]) => boolean, timeoutMs: number, what: string): Promise<void> {
    if (done(this.messages)) return;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!done(this.messages)) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${this.messages.length} messages received)`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
