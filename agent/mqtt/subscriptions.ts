/**
 * The relay's incoming side: topic filters and their handlers, kept across reconnects (clean sessions
 * forget subscriptions, so they are sent again on every connect). A handler that throws or rejects is
 * logged; it never reaches mqtt.js or takes the connection down.
 */
import type { Logger } from '../lib/log.js';

export type MessageHandler = (topic: string, payload: Buffer) => void | Promise<void>;

/** MQTT filter matching: `+` is one level, a trailing `#` is any number of levels (zero included). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return i === f.length - 1;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

export class Subscriptions {
  private readonly handlers = new Map<string, Set<MessageHandler>>();

  constructor(private readonly logger: Logger) {}

  /** Adds a handler; true if the filter is new (so the caller subscribes on the broker). */
  add(filter: string, handler: MessageHandler): boolean {
    const existing = this.handlers.get(filter);
    if (existing) {
      existing.add(handler);
      return false;
    }
    this.handlers.set(filter, new Set([handler]));
    return true;
  }

  /** Removes a handler; true if the filter has none left (so the caller unsubscribes). */
  remove(filter: string, handler: MessageHandler): boolean {
    const set = this.handlers.get(filter);
    if (!set?.delete(handler) || set.size > 0) return false;
    this.handlers.delete(filter);
    return true;
  }

  filters(): string[] {
    return [...this.handlers.keys()];
  }

  dispatch(topic: string, payload: Buffer): void {
    for (const [filter, set] of this.handlers) {
      if (!topicMatches(filter, topic)) continue;
      for (const handler of set) {
        try {
          const result = handler(topic, payload);
          if (result instanceof Promise) result.catch((err: unknown) => this.failed(topic, err));
        } catch (err) {
          this.failed(topic, err);
        }
      }
    }
  }

  private failed(topic: string, err: unknown): void {
    this.logger.error({ err, topic }, `handler for a message on ${topic} failed`);
  }
}
