import { expect, vi } from 'vitest';
import { defaultConfig } from '../../agent/config/load.js';
import type { AgentConfig, OtaConfig } from '../../agent/config/types.js';
import { EventBus } from '../../agent/runtime/event-bus.js';
import { silentLogger, type Logger } from '../../agent/lib/log.js';
import type { OtaService } from '../../agent/ota/service.js';
import { createOtaService } from '../../agent/ota/setup.js';
import { MessageBuilder } from '../../agent/mqtt/messages.js';
import { MqttRelay } from '../../agent/mqtt/relay.js';
import { RemoteCommands } from '../../agent/mqtt/remote-commands.js';
import { SqliteStore } from '../../agent/store/store.js';
import type { OtaHarness } from './harness.js';

export const DEVICE_ID = 'pi-1';

/**
 * The device side of the MQTT tests, composed like the daemon: SQLite store (in memory), the real relay
 * on the test broker, and the OTA service made by `createOtaService` over the harness's data dir, CA
 * and model slots (each start is a restarted agent: a fresh registry object and updater). Its
 * `ota.public_key` is the harness's, so remote updates must be signed with `harness.sign()`; `options.ota`
 * overrides the section (`public_key: null` for the defaults' refusal of every remote update).
 */
export class TestDevice {
  private constructor(
    readonly config: AgentConfig,
    readonly store: SqliteStore,
    readonly relay: MqttRelay,
    readonly service: OtaService,
  ) {}

  static async start(brokerUrl: string, harness: OtaHarness, options: { thingName?: string; ota?: Partial<OtaConfig>; logger?: Logger } = {}): Promise<TestDevice> {
    const defaults = defaultConfig();
    const config: AgentConfig = {
      ...defaults,
      device_id: DEVICE_ID,
      data_dir: harness.dataDir,
      intruder: { ...defaults.intruder, threads: 1 },
      ota: { ...defaults.ota, ca: harness.pki.ca, keep_versions: 2, public_key: harness.signingKeys.publicKey, ...options.ota },
      mqtt: {
        ...defaults.mqtt,
        url: brokerUrl,
        prefix: options.thingName ? 'things' : 'edge',
        aws_iot: { ...defaults.mqtt.aws_iot, thing_name: options.thingName ?? null },
      },
    };
    const logger = options.logger ?? silentLogger();
    const bus = new EventBus(logger);
    const store = SqliteStore.open(':memory:', { logger, bus, config: config.store });
    const relay = new MqttRelay({ store, config: config.mqtt, deviceId: DEVICE_ID, logger, bus, flushTimeoutMs: 500 });
    const messages = new MessageBuilder(relay.baseTopic, DEVICE_ID);
    const commands = new RemoteCommands({ transport: relay, outbox: store, messages, logger });
    commands.start();
    const service = createOtaService({ config, logger, bus, store, relay, commands, messages, intruder: harness.intruderSlot, forecaster: harness.forecastSlot });
    await relay.start();
    await service.start();
    // Called from hooks as well as tests, so vi.waitFor (expect.poll works only inside a test).
    await vi.waitFor(() => expect(relay.connected, 'the relay connects to the test broker').toBe(true), { timeout: 10_000 });
    return new TestDevice(config, store, relay, service);
  }

  get baseTopic(): string {
    return this.relay.baseTopic;
  }

  async stop(): Promise<void> {
    await this.service.stop();
    await this.relay.stop();
    this.store.close();
  }
}
