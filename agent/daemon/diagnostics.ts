/**
 * The retained `<base>/diagnostics` message, every `diagnostics.interval_s`: how deep the outbox is and
 * how old its oldest message, the last inference time, the frames the cameras dropped, the CPU
 * temperature and the forecasts' error. It goes through the outbox like every data message; being
 * retained, a late subscriber (Home Assistant's diagnostic entities) gets the newest at once.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from '../lib/log.js';
import type { MessageBuilder } from '../mqtt/messages.js';
import type { EventBus } from '../runtime/event-bus.js';
import type { ComponentHealth, Service } from '../runtime/service.js';
import type { OutboxMessage, OutboxRow } from '../store/types.js';

export interface DiagnosticsDeps {
  bus: EventBus;
  store: {
    enqueue(messages: OutboxMessage[]): boolean;
    outboxDepth(): number;
    pendingOutbox(limit: number): OutboxRow[];
  };
  messages: Pick<MessageBuilder, 'diagnostics'>;
  intervalMs: number;
  /** Linux thermal zone file, in millidegrees Celsius (`diagnostics.cpu_temperature_file`). */
  cpuTemperatureFile: string;
  logger: Logger;
  /** ms since the epoch (default Date.now). */
  clock?: () => number;
}

/**
 * The CPU temperature in °C with one decimal, or null when the file cannot be read or does not hold a
 * number (not a Pi, a container without /sys): the caller leaves it out, it is not an error.
 */
export async function readCpuTemperature(file: string): Promise<number | null> {
  try {
    const milli = Number.parseInt((await readFile(file, 'utf8')).trim(), 10);
    return Number.isFinite(milli) ? Math.round(milli / 100) / 10 : null;
  } catch {
    return null;
  }
}

export class DiagnosticsPublisher implements Service {
  readonly name = 'diagnostics';
  private timer: NodeJS.Timeout | null = null;
  private lastInferenceMs: number | null = null;
  private readonly framesDropped = new Map<string, number>();
  private forecastMae: number | null = null;
  private published = 0;
  private publishing: Promise<void> = Promise.resolve();

  constructor(private readonly deps: DiagnosticsDeps) {}

  async start(): Promise<void> {
    const { bus } = this.deps;
    bus.on('inference', this, (e) => (this.lastInferenceMs = Math.round(e.ms * 10) / 10));
    bus.on('frame.dropped', this, (e) => this.framesDropped.set(e.camera, (this.framesDropped.get(e.camera) ?? 0) + e.count));
    bus.on('forecast.score', this, (e) => (this.forecastMae = e.last_24h.mae_celsius));
    await this.publish();
    this.timer = setInterval(() => {
      this.publishing = this.publish();
    }, this.deps.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.deps.bus.removeListeners(this);
    await this.publishing;
  }

  health(): ComponentHealth {
    return { state: 'ok', published: this.published };
  }

  /** Queues one diagnostics message with the values as they are now. */
  async publish(): Promise<void> {
    const { store, messages, clock = Date.now } = this.deps;
    const cpu = await readCpuTemperature(this.deps.cpuTemperatureFile);
    const now = clock();
    const oldest = store.pendingOutbox(1)[0];
    const message = messages.diagnostics(
      {
        outbox: { depth: store.outboxDepth(), oldest_age_s: oldest ? Math.max(0, Math.round((now - oldest.created_at) / 100) / 10) : null },
        last_inference_ms: this.lastInferenceMs,
        frames_dropped: [...this.framesDropped.values()].reduce((sum, n) => sum + n, 0),
        frames_dropped_by_camera: Object.fromEntries(this.framesDropped),
        cpu_temperature_c: cpu,
        forecast_mae_celsius: this.forecastMae,
      },
      now,
    );
    if (store.enqueue([message])) this.published++;
    else this.deps.logger.warn('could not queue the diagnostics message');
  }
}
