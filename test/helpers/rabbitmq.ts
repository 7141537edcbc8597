/**
 * A real RabbitMQ with its MQTT plugin for integration tests, run from Debian's `rabbitmq-server` as a
 * child process: its own node name, its own epmd, every port free and on 127.0.0.1 only (MQTT, Erlang
 * distribution, epmd; the AMQP listener is off), and its data, logs and configuration in a temporary
 * folder, so it neither needs nor disturbs a system RabbitMQ. It takes seconds to start (the MQTT
 * plugin elects a Raft leader for its client-id registry): start one per test file.
 *
 * stop()/resume() restart it on the same ports and data (durable sessions and retained messages
 * survive, as with mosquitto's persistence); kill() is SIGKILL, a crash.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from '../../scripts/bench/mosquitto.js';

const RABBITMQ_SERVER = process.env.RABBITMQ_SERVER ?? '/usr/lib/rabbitmq/bin/rabbitmq-server';
const EPMD = process.env.EPMD ?? 'epmd';
const START_TIMEOUT_MS = 90_000;
const READY_LINE = 'Server startup complete';

interface Ports {
  mqtt: number;
  dist: number;
  epmd: number;
}

export class RabbitMq {
  private broker: ChildProcess | null = null;
  private epmd: ChildProcess | null = null;
  /** Everything the node logged (its console log), for failure messages. */
  log = '';

  private constructor(
    readonly dir: string,
    private readonly ports: Ports,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  static async start(): Promise<RabbitMq> {
    if (!existsSync(RABBITMQ_SERVER)) {
      throw new Error(`${RABBITMQ_SERVER} is missing: install Debian's rabbitmq-server (apt-get install rabbitmq-server), as .ci/run does`);
    }
    const dir = mkdtempSync(join(tmpdir(), 'edge-rabbitmq-'));
    const ports: Ports = { mqtt: await freePort(), dist: await freePort(), epmd: await freePort() };
    for (const sub of ['home', 'mnesia', 'log']) mkdirSync(join(dir, sub));
    writeFileSync(
      join(dir, 'rabbitmq.conf'),
      [
        'listeners.tcp = none',
        `mqtt.listeners.tcp.default = 127.0.0.1:${ports.mqtt}`,
        // The default user `guest` may only connect from loopback, which is where the tests are.
        'mqtt.allow_anonymous = true',
        'log.console = true',
        'log.console.level = info',
        'log.file = false',
      ].join('\n') + '\n',
    );
    writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_mqtt].\n');
    // Read instead of /etc/rabbitmq/rabbitmq-env.conf, so the machine's settings do not leak in.
    writeFileSync(join(dir, 'rabbitmq-env.conf'), '');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: join(dir, 'home'), // the Erlang cookie
      RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
      RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
      RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
      RABBITMQ_PLUGINS_EXPAND_DIR: join(dir, 'plugins'),
      RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(dir, 'log'),
      RABBITMQ_NODENAME: `edge-test-${process.pid}-${ports.mqtt}@localhost`,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_DIST_PORT: String(ports.dist),
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
      ERL_EPMD_PORT: String(ports.epmd),
      ERL_EPMD_ADDRESS: '127.0.0.1',
    };
    const broker = new RabbitMq(dir, ports, env);
    try {
      await broker.resume();
    } catch (err) {
      await broker.dispose();
      throw err;
    }
    return broker;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.ports.mqtt}`;
  }

  get port(): number {
    return this.ports.mqtt;
  }

  get running(): boolean {
    return this.broker !== null;
  }

  /** Starts the node (again) on its ports, and resolves once its MQTT listener accepts clients. */
  async resume(): Promise<void> {
    if (this.broker) return;
    // Our own epmd on a free port: the node registers there, not with a system-wide epmd it would start.
    if (!this.epmd) {
      this.epmd = spawn(EPMD, ['-port', String(this.ports.epmd), '-address', '127.0.0.1'], { stdio: 'ignore' });
      await waitForPort(this.ports.epmd, 10_000, 'epmd');
    }
    // Its own process group: the wrapper script and the Erlang VM it starts are stopped together.
    const child = spawn(RABBITMQ_SERVER, [], { env: this.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.broker = child;
    let ready: () => void = () => {};
    const started = new Promise<void>((resolve) => (ready = resolve));
    const from = this.log.length; // after a resume(), the previous start's lines do not count
    const collect = (chunk: Buffer): void => {
      this.log += chunk.toString();
      if (this.log.includes(READY_LINE, from)) ready();
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) => reject(new Error(`rabbitmq-server exited (${code ?? signal}) while starting:\n${this.log.slice(-4000)}`))),
    );
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`rabbitmq-server did not finish starting within ${START_TIMEOUT_MS} ms:\n${this.log.slice(-4000)}`)), START_TIMEOUT_MS).unref(),
    );
    try {
      await Promise.race([started, exited, timeout]);
      await Promise.race([waitForPort(this.ports.mqtt, 10_000, 'the RabbitMQ MQTT listener'), exited]);
    } catch (err) {
      await this.signal('SIGKILL');
      throw err;
    }
    exited.catch(() => {}); // a later exit is stop()'s or kill()'s business
  }

  /** SIGTERM (a clean shutdown: durable sessions and retained messages are kept) and wait for the exit. */
  stop(): Promise<void> {
    return this.signal('SIGTERM');
  }

  /** SIGKILL: the broker dies as in a crash or power cut, without closing its connections cleanly. */
  kill(): Promise<void> {
    return this.signal('SIGKILL');
  }

  /** Stops the node and its epmd and removes the folder. */
  async dispose(): Promise<void> {
    await this.stop();
    const epmd = this.epmd;
    this.epmd = null;
    if (epmd && epmd.exitCode === null && epmd.signalCode === null) {
      const exited = new Promise<void>((resolve) => epmd.once('exit', () => resolve()));
      epmd.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.broker;
    if (!child) return;
    this.broker = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // The whole group: the wrapper forwards SIGTERM to the VM, but a SIGKILL would leave the VM running.
    process.kill(-child.pid!, signal);
    await exited;
    if (signal === 'SIGKILL') return;
    // The wrapper exits once the VM has; make sure nothing of the group is left holding the ports.
    try {
      process.kill(-child.pid!, 0);
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the group is gone
    }
  }
}
