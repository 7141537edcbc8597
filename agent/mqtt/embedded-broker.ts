/**
 * A small MQTT broker (aedes) inside the agent, for the zero-configuration demo: `edge-agent run` on
 * a laptop and `npx mqtt sub -t 'edge/#' -v` shows the traffic at once. It listens on 127.0.0.1 only
 * by default. If the port is taken (a real mosquitto already runs there) the agent uses that broker
 * instead and says so; that is not an error.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import type { EmbeddedBrokerConfig } from '../config/types.js';
import type { ComponentHealth, Service } from '../runtime/service.js';
import type { Logger } from '../lib/log.js';

export interface EmbeddedBrokerDeps {
  config: EmbeddedBrokerConfig;
  logger: Logger;
}

export class EmbeddedBroker implements Service {
  readonly name = 'broker';
  private broker: Aedes | null = null;
  private server: Server | null = null;
  private boundPort: number | null = null;
  private note: string | null = null;

  constructor(private readonly deps: EmbeddedBrokerDeps) {}

  /** The port it listens on (useful with `port: 0`), or null when not listening. */
  get port(): number | null {
    return this.boundPort;
  }

  async start(): Promise<void> {
    const { host, port, enabled } = this.deps.config;
    if (!enabled) return;
    const broker = await Aedes.createBroker();
    const server = createServer(broker.handle);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
    } catch (err) {
      await closeBroker(broker);
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      this.note = `${host}:${port} is already in use; the agent uses the broker listening there`;
      this.deps.logger.warn({ host, port }, `embedded broker not started: ${this.note}`);
      return;
    }
    this.broker = broker;
    this.server = server;
    this.boundPort = (server.address() as AddressInfo).port;
    this.deps.logger.info({ host, port: this.boundPort }, `embedded MQTT broker listening on ${host}:${this.boundPort}`);
  }

  async stop(): Promise<void> {
    const { server, broker } = this;
    this.server = null;
    this.broker = null;
    this.boundPort = null;
    // Closing aedes first disconnects its clients, so server.close() does not wait for them.
    if (broker) await closeBroker(broker);
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  health(): ComponentHealth {
    if (!this.deps.config.enabled) return { state: 'disabled' };
    if (this.boundPort !== null) return { state: 'ok', port: this.boundPort };
    return this.note ? { state: 'ok', detail: this.note } : { state: 'down', detail: 'not started' };
  }
}

function closeBroker(broker: Aedes): Promise<void> {
  return new Promise((resolve) => broker.close(() => resolve()));
}
