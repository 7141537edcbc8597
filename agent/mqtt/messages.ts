/**
 * Turns records into the outbox messages of the MQTT contract (agent/mqtt/contract/topics.ts), so every pipeline
 * shapes payloads the same way and every data message gets a unique, sortable `id` and an ISO `ts`.
 */
import { randomBytes } from 'node:crypto';
import type { Reading } from '../../drivers/sensors/index.js';
import type { DetectionRecord, ForecastRecord, OutboxMessage } from '../store/types.js';
import {
  Topic,
  type CommandProgressPayload,
  type CommandResponsePayload,
  type DiagnosticsPayload,
  type ForecastScorePayload,
  type InfoPayload,
  type IntruderAlertPayload,
  type ModelInfoPayload,
  type ModelUpdatePayload,
  type StoreAlertPayload,
  type TemperatureAlertPayload,
  type TemperatureForecastPayload,
  type TemperatureTelemetryPayload,
} from './contract/topics.js';

/**
 * The message id provider (like MQTT.js's `messageIdProvider`): UUIDv7s (RFC 9562), 48-bit Unix ms, then
 * a 12-bit counter (method 1 of section 6.2) so ids made in the same millisecond still sort in creation
 * order, then 62 random bits. The ids of one instance never go backwards even if the wall clock does (NTP
 * step at boot on a Pi without an RTC), because the timestamp is clamped to the last one used: the
 * daemon makes one instance and hands it to everything that makes ids; tests make their own.
 */
export class MessageIds {
  private lastMs = -1;
  private counter = 0;

  next(nowMs: number = Date.now()): string {
    let ms = Math.max(Math.floor(nowMs), this.lastMs);
    if (ms === this.lastMs) {
      this.counter += 1;
      if (this.counter > 0xfff) {
        ms += 1;
        this.counter = randomBytes(1)[0]!; // a fresh, small random start leaves room to count up
      }
    } else {
      this.counter = randomBytes(1)[0]!;
    }
    this.lastMs = ms;
    const bytes = randomBytes(16);
    bytes.writeUIntBE(ms, 0, 6);
    bytes[6] = 0x70 | (this.counter >> 8);
    bytes[7] = this.counter & 0xff;
    bytes[8] = 0x80 | (bytes[8]! & 0x3f);
    const hex = bytes.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}

/** ms since the epoch -> ISO-8601 UTC with milliseconds (`2025-01-31T12:00:00.000Z`). */
export function isoTs(ms: number): string {
  return new Date(ms).toISOString();
}

/** The fields of a temperature alert that the telemetry pipeline decides; the builder adds the rest. */
export type TemperatureAlert = Omit<TemperatureAlertPayload, 'id' | 'ts' | 'device'> & { ts: number; id?: string };

/**
 * Builds the outbox messages of one device. `base` is the base topic (see `mqttBaseTopic` in
 * agent/mqtt/client-options.ts), `device` the device id written into payloads that name it, `ids` the
 * provider of message ids (the pipelines take the ids of their records from it too).
 */
export class MessageBuilder {
  constructor(
    readonly base: string,
    readonly device: string,
    readonly ids: MessageIds = new MessageIds(),
  ) {}

  topic(suffix: string): string {
    return `${this.base}/${suffix}`;
  }

  /** `<base>/telemetry/temperature`; an invalid reading has `celsius: null` and its `error`. */
  telemetry(reading: Reading, id: string = this.ids.next()): OutboxMessage {
    const payload: TemperatureTelemetryPayload = reading.valid
      ? { id, ts: isoTs(reading.ts), celsius: reading.celsius, sensor: reading.sensor, valid: true }
      : { id, ts: isoTs(reading.ts), celsius: null, sensor: reading.sensor, valid: false, error: reading.error };
    return this.json(Topic.temperature, payload);
  }

  /**
   * `<base>/alerts/intruder` (`.../<camera>` for a camera of `cameras`: `topicCamera`, null for the one
   * camera of `camera:`); the message id is the record's id, so the alert and the row match.
   */
  intruderAlert(record: DetectionRecord, topicCamera: string | null = null): OutboxMessage {
    const payload: IntruderAlertPayload = {
      id: record.id,
      ts: isoTs(record.ts),
      device: this.device,
      event: record.event,
      event_id: record.event_id,
      schema_version: 4,
      camera: record.camera,
      intruder: record.event !== 'end' && record.objects.length > 0,
      objects: record.objects.map((o) => ({ class: o.class, confidence: o.confidence, bbox: { ...o.bbox }, track_id: o.track_id, top_score: o.top_score, stationary: o.stationary, zones: [...o.zones] })),
      total_objects: record.objects.length,
      model: { name: record.model.name, version: record.model.version },
    };
    return this.json(Topic.cameraAlert(topicCamera), payload);
  }

  /** `<base>/snapshot` (`.../<camera>`, as intruderAlert), retained JPEG bytes (resize before this for AWS IoT Core's 128 KB limit). */
  snapshot(jpeg: Buffer, topicCamera: string | null = null): OutboxMessage {
    return { topic: this.topic(Topic.cameraSnapshot(topicCamera)), payload: jpeg, retain: true };
  }

  /** `<base>/forecast/temperature`; the message id is the record's id. */
  forecast(record: ForecastRecord): OutboxMessage {
    const payload: TemperatureForecastPayload = {
      id: record.id,
      ts: isoTs(record.ts),
      predicted_celsius: record.predicted_celsius,
      horizon_s: record.horizon_s,
      unit: 'Celsius',
      based_on: { from: isoTs(record.from_ts), to: isoTs(record.to_ts), n: record.n },
      model: {
        name: record.model.name,
        version: record.model.version,
        ...(record.fallback ? { reason: record.fallback.reason, instead_of: { ...record.fallback.instead_of } } : {}),
      },
    };
    return this.json(Topic.forecast, payload);
  }

  /** `<base>/forecast/score`, retained: the rolling errors of the matured forecasts. */
  forecastScore(score: Omit<ForecastScorePayload, 'id' | 'ts' | 'device'>, ts: number): OutboxMessage {
    const payload: ForecastScorePayload = { id: this.ids.next(ts), ts: isoTs(ts), device: this.device, ...score };
    return { ...this.json(Topic.forecastScore, payload), retain: true };
  }

  /** `<base>/alerts/temperature`: a forecast crossed `high_c`/`low_c`, or came back inside. */
  temperatureAlert(alert: TemperatureAlert): OutboxMessage {
    const { ts, id = this.ids.next(), ...rest } = alert;
    const payload: TemperatureAlertPayload = { id, ts: isoTs(ts), device: this.device, ...rest };
    return this.json(Topic.temperatureAlert, payload);
  }

  /** `<base>/alerts/store`: the database was damaged and replaced at start. */
  storeAlert(alert: Omit<StoreAlertPayload, 'id' | 'ts' | 'device' | 'kind'>, ts: number): OutboxMessage {
    const payload: StoreAlertPayload = { id: this.ids.next(ts), ts: isoTs(ts), device: this.device, kind: 'database_recovered', ...alert };
    return this.json(Topic.storeAlert, payload);
  }

  /** `<base>/alarm`, retained `on` / `off`. */
  alarmState(on: boolean): OutboxMessage {
    return { topic: this.topic(Topic.alarm), payload: on ? 'on' : 'off', retain: true };
  }

  /** `<base>/models/<role>`, retained info of the active model. */
  modelInfo(info: ModelInfoPayload): OutboxMessage {
    return { ...this.json(Topic.model(info.role), info), retain: true };
  }

  /** `<base>/models/<role>/update`, retained: the state of the role's updates (Home Assistant's update entity). */
  modelUpdate(role: string, state: Omit<ModelUpdatePayload, 'id' | 'ts'>, ts: number): OutboxMessage {
    const payload: ModelUpdatePayload = { id: this.ids.next(ts), ts: isoTs(ts), ...state };
    return { ...this.json(Topic.modelUpdate(role), payload), retain: true };
  }

  /** `<base>/diagnostics`, retained: how the agent itself is doing. */
  diagnostics(state: Omit<DiagnosticsPayload, 'id' | 'ts' | 'device'>, ts: number): OutboxMessage {
    const payload: DiagnosticsPayload = { id: this.ids.next(ts), ts: isoTs(ts), device: this.device, ...state };
    return { ...this.json(Topic.diagnostics, payload), retain: true };
  }

  /** `<base>/info`, retained: versions, the effective configuration (redacted) and its schema. */
  info(info: Omit<InfoPayload, 'id' | 'ts' | 'device'>, ts: number = Date.now()): OutboxMessage {
    const payload: InfoPayload = { id: this.ids.next(ts), ts: isoTs(ts), device: this.device, ...info };
    return { ...this.json(Topic.info, payload), retain: true };
  }

  /** `<base>/cmd/<name>/response`: the reply envelope of a remote command. */
  commandResponse(command: string, response: Omit<CommandResponsePayload, 'id' | 'ts' | 'command'>, ts: number = Date.now()): OutboxMessage {
    const payload: CommandResponsePayload = { id: this.ids.next(ts), ts: isoTs(ts), command, ...response };
    return this.json(Topic.commandResponse(command), payload);
  }

  /** `<base>/cmd/<name>/progress`: progress of a long command. */
  commandProgress(command: string, progress: Omit<CommandProgressPayload, 'id' | 'ts' | 'command'>, ts: number = Date.now()): OutboxMessage {
    const payload: CommandProgressPayload = { id: this.ids.next(ts), ts: isoTs(ts), command, ...progress };
    return this.json(Topic.commandProgress(command), payload);
  }

  private json(suffix: string, payload: object): OutboxMessage {
    return { topic: this.topic(suffix), payload: JSON.stringify(payload) };
  }
}
