/**
 * The brokers the delivery, outage and persistent-session tests run against, so the relay is not tuned
 * to one broker's quirks: mosquitto, and RabbitMQ's MQTT plugin (test/helpers/rabbitmq.ts). Use with
 * `describe.each(BROKERS)('... ($name)', ({ start }) => ...)` and start the broker once per describe.
 */
import { Mosquitto } from './mosquitto.js';
import { RabbitMq } from './rabbitmq.js';

/** What the tests need of a broker process. */
export interface TestBroker {
  readonly url: string;
  readonly port: number;
  readonly running: boolean;
  /** Everything the broker logged, for failure messages. */
  readonly log: string;
  /** Starts it again on the same port, with the data it had (after stop()). */
  resume(): Promise<void>;
  /** A clean shutdown. */
  stop(): Promise<void>;
  /** Stops it and removes its folder. */
  dispose(): Promise<void>;
}

export interface BrokerKind {
  name: 'mosquitto' | 'rabbitmq';
  start(): Promise<TestBroker>;
}

export const BROKERS: readonly BrokerKind[] = [
  { name: 'mosquitto', start: () => Mosquitto.start() },
  { name: 'rabbitmq', start: () => RabbitMq.start() },
];
