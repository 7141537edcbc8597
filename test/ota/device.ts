import { defaultConfig } from '../../agent/config/load.js';
import type { AgentConfig } from '../../agent/config/types.js';
import { EventBus } from '../../agent/runtime/event-bus.js';
import { silentLogger } from '../../agent/lib/log.js';
import type { OtaService } from '../../agent/ota/service.js';
import { createOtaService } from '../../agent/ota/setup.js';
import { MqttRelay } from '../../agent/mqtt/relay.js';
import { MessageIds } from '../../agent/mqtt/messages.js';
import { SqliteStore } from '../../agent/store/store.js';
import type { OtaHarness } from './harness.js';

export const DEVICE_ID = 'pi-1';

/**
 * The device side of the MQTT tests, composed like the daemon: SQLite store (in memory), the real relay
 * on the test broker, and the OTA service made by `createOtaService` over the harness's data dir, CA
 * and model slots (each start is a restarted agent: a fresh registry object and updater).
 */
export class TestDevice {
  private constructor(
    readonly config: AgentConfig,
    readonly store: SqliteStore,
    readonly relay: MqttRelay,
    readonly service: OtaService,
  ) {}

  static async start(brokerUrl: string, harness: OtaHarness, options: { thingName?: string } = {}): Promise<TestDevice> {
    const defaults = defaultConfig();
    const config: AgentConfig = {
      ...defaults,
      device_id: DEVICE_ID,
      data_dir: harness.dataDir,
      intruder: { ...defaults.intruder, threads: 1 },
      ota: { ...defaults.ota, ca: harness.pki.caPath, keep_versions: 2 },
      mqtt: {
        ...defaults.mqtt,
        url: brokerUrl,
        prefix: options.thingName ? 'things' : 'edge',
        aws_iot: { thing_name: options.thingName ?? null },
      },
    };
    const logger = silentLogger();
    const bus = new EventBus(logger);
    const store = SqliteStore.open(':memory:', { logger, bus, config: config.store });
    const relay = new MqttRelay({ store, config: config.mqtt, deviceId: DEVICE_ID, logger, bus, flushTimeoutMs: 500 });
    const service = createOtaService({ config, logger, bus, store, relay, messages: { ids: new MessageIds() }, intruder: harness.intruderSlot, forecaster: harness.forecastSlot });
    await relay.start();
    await service.start();
    const device = new TestDevice(config, store, relay, service);
    await device.waitConnected();
    return device;
  }

  get baseTopic(): string {
    return this.relay.baseTopic;
  }

  async waitConnected(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.relay.connected) {
      if (Date.now() > deadline) throw new Error('the relay did not connect to the test broker');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stop(): Promise<void> {
    await this.service.stop();
    await this.relay.stop();
    this.store.close();
  }
}
