/**
 * The MQTT contract: one typed map from topic to payload. Payload keys are snake_case. Every data
 * message carries a unique `id` (subscribers de-duplicate at-least-once delivery) and an ISO-8601 UTC `ts`.
 * The JSON Schema of each payload lives in agent/mqtt/contract/schemas.ts and is printed in the README.
 */
import type { BoundingBox } from '../../../models/types.js';

export interface ModelRef {
  name: string;
  version: string;
}

export interface IntruderAlertPayload {
  id: string;
  ts: string;
  device: string;
  event: 'start' | 'update' | 'end';
  event_id: string;
  /** 4 since it names its `camera`; 3 since objects carry their `zones`; 2 since they carry their track (`track_id`, `top_score`, `stationary`); absent before. */
  schema_version: 4;
  /** The camera that saw it: `main` for the one camera of `camera:`, else its name under `cameras`. */
  camera: string;
  intruder: boolean;
  objects: { class: string; confidence: number; bbox: BoundingBox; track_id: string; top_score: number; stationary: boolean; zones: string[] }[];
  total_objects: number;
  model: ModelRef;
}

export interface TemperatureTelemetryPayload {
  id: string;
  ts: string;
  /** null when the reading is invalid. */
  celsius: number | null;
  sensor: string;
  valid: boolean;
  /** Why the reading is invalid (only when valid is false). */
  error?: string;
}

/** Who made a forecast: the model, or `persistence` (with why, and which model it stands in for). */
export interface ForecastModelRef extends ModelRef {
  /** Why persistence was served instead of the model (only then). */
  reason?: string;
  /** The model persistence stands in for (only then). */
  instead_of?: ModelRef;
}

export interface TemperatureForecastPayload {
  id: string;
  ts: string;
  predicted_celsius: number;
  horizon_s: number;
  unit: 'Celsius';
  /** The window the forecast was computed from: ISO times of its first and last reading, and its length. */
  based_on: { from: string; to: string; n: number };
  model: ForecastModelRef;
}

/** Rolling errors of matured forecasts over one span: the model's, persistence's, and the skill between them. */
export interface ScoreWindowPayload {
  /** Mean absolute error of the model's forecasts (null: none scored). */
  mae_celsius: number | null;
  /** Mean absolute error of persistence ("no change") on the same forecasts. */
  persistence_mae_celsius: number | null;
  /** 1 - mae / persistence_mae: above 0 the model beats persistence; null when either is unknown or persistence was perfect. */
  skill: number | null;
  /** Forecasts scored in the span. */
  scored: number;
}

/** `<base>/forecast/score`, retained: how good the active model's forecasts have been. */
export interface ForecastScorePayload {
  id: string;
  ts: string;
  device: string;
  model: ModelRef;
  last_24h: ScoreWindowPayload;
  last_7d: ScoreWindowPayload;
  /** Whether forecasts are served by persistence because the model lost to it over the last 24 h. */
  fallback: { active: boolean; reason: string | null };
}

export interface TemperatureAlertPayload {
  id: string;
  ts: string;
  device: string;
  /** `high`/`low`: the forecast crossed the threshold; `clear`: it came back inside (with hysteresis). */
  kind: 'high' | 'low' | 'clear';
  threshold_c: number;
  predicted_celsius: number;
  horizon_s: number;
  forecast_id: string;
}

/** `<base>/alerts/store`: the database was damaged and replaced at start (agent/store/recovery.ts). */
export interface StoreAlertPayload {
  id: string;
  ts: string;
  device: string;
  kind: 'database_recovered';
  /** What SQLite's quick check (or the open) said. */
  reason: string;
  /** File name the damaged database was moved to, in the data folder. */
  moved_to: string;
  recovered_outbox_rows: number;
  unreadable_ranges: number;
}

export interface ModelInfoPayload {
  role: 'intruder' | 'forecast';
  name: string;
  version: string;
  sha256: string;
  activated_at: string;
}

/**
 * `<base>/models/<role>/update`, retained: the state of a model role's updates, in the fields of Home
 * Assistant's MQTT `update` entity (agent/ota/update-state.ts publishes it).
 */
export interface ModelUpdatePayload {
  id: string;
  ts: string;
  /** The version the pipeline serves (null: no model serves this role). */
  installed_version: string | null;
  /** The version announced on `<base>/models/<role>/available`; the installed one when none is announced. */
  latest_version: string | null;
  title: string;
  /** The announcement's `summary` (at most 255 characters, Home Assistant's limit), or why the last install failed. */
  release_summary: string | null;
  in_progress: boolean;
  /** 0-100 while the download runs with a known length; null otherwise. */
  update_percentage: number | null;
}

/** `<base>/models/<role>/available`, retained, published by an operator: the version to offer for install. */
export interface ModelAvailablePayload {
  version: string;
  /** https:// or file:// */
  url: string;
  sha256: string;
  /** Base64 Ed25519 signature of the canonical manifest (needed by default, as for `cmd/model-update`). */
  signature?: string;
  /** Release notes shown by Home Assistant (cut to 255 characters). */
  summary?: string;
  /** Name recorded in the manifest; default: the URL's file name. */
  name?: string;
}

/** `<base>/diagnostics`, retained, every `diagnostics.interval_s`: how the agent itself is doing. */
export interface DiagnosticsPayload {
  id: string;
  ts: string;
  device: string;
  outbox: {
    /** Messages waiting for the broker. */
    depth: number;
    /** Age of the oldest waiting message in seconds (null: none waits). */
    oldest_age_s: number | null;
  };
  /** Time of the last detector inference in ms (null: none since start). */
  last_inference_ms: number | null;
  /** Frames the cameras dropped since start (the pipeline was busy), all together. */
  frames_dropped: number;
  /** The same by camera name; a camera that dropped none yet is absent. */
  frames_dropped_by_camera: Record<string, number>;
  /** null when the thermal zone file cannot be read. */
  cpu_temperature_c: number | null;
  /** Mean absolute error of the forecasts scored over the last 24 h (null: none scored yet). */
  forecast_mae_celsius: number | null;
}

/**
 * `<base>/cmd/<name>/response`: the one reply envelope of every remote command (agent/mqtt/remote-commands.ts),
 * after zigbee2mqtt's bridge responses.
 */
export interface CommandResponsePayload {
  id: string;
  ts: string;
  /** The command's name, as in the topic. */
  command: string;
  status: 'ok' | 'error';
  /** Command-specific data; with status `error`, `code` (a stable word for machines) and what the refusal is about. */
  data: Record<string, unknown>;
  /** With status `error`: why, in words. */
  error?: string;
  /** The request's `transaction`, echoed (omitted when it had none). */
  transaction?: string | number;
}

/** `<base>/cmd/<name>/progress` (QoS 0): how far a long command (`model-update`) has come. */
export interface CommandProgressPayload {
  id: string;
  ts: string;
  command: string;
  data: Record<string, unknown>;
  transaction?: string | number;
}

/** A model as `<base>/info` names it (null: none loaded). */
export interface InfoModelRef {
  name: string;
  version: string;
}

/**
 * `<base>/info`, retained (zigbee2mqtt's `bridge/info`): what runs on the device, its effective
 * configuration with secrets redacted, and the JSON Schema a remote editor validates against.
 */
export interface InfoPayload {
  id: string;
  ts: string;
  device: string;
  versions: { agent: string; node: string; models: { intruder: InfoModelRef | null; forecast: InfoModelRef | null } };
  /** The effective configuration, secrets redacted. */
  config: Record<string, unknown>;
  /** The configuration's JSON Schema (agent/config/schema.ts). */
  config_schema: Record<string, unknown>;
  /** Whether `cmd/config/set` is accepted (`remote_config.enabled`). */
  remote_config: boolean;
  /** Keys changed in the file by `cmd/config/set` that take effect at the next restart. */
  restart_required: string[];
}

/** Topic suffixes below the base topic `<prefix>/<device_id>`. */
const INTRUDER_ALERT = 'alerts/intruder';
const SNAPSHOT = 'snapshot';

export const Topic = {
  status: 'status',
  intruderAlert: INTRUDER_ALERT,
  snapshot: SNAPSHOT,
  /** A camera of `cameras` has its own alert and snapshot topics below these; null: the one camera of `camera:` (the topics themselves). */
  cameraAlert: (camera: string | null) => (camera === null ? INTRUDER_ALERT : `${INTRUDER_ALERT}/${camera}`),
  cameraSnapshot: (camera: string | null) => (camera === null ? SNAPSHOT : `${SNAPSHOT}/${camera}`),
  temperature: 'telemetry/temperature',
  forecast: 'forecast/temperature',
  forecastScore: 'forecast/score',
  temperatureAlert: 'alerts/temperature',
  storeAlert: 'alerts/store',
  alarm: 'alarm',
  info: 'info',
  model: (role: string) => `models/${role}`,
  modelUpdate: (role: string) => `models/${role}/update`,
  modelAvailable: (role: string) => `models/${role}/available`,
  diagnostics: 'diagnostics',
  command: (name: string) => `cmd/${name}`,
  commandResponse: (name: string) => `cmd/${name}/response`,
  commandProgress: (name: string) => `cmd/${name}/progress`,
} as const;

/** A name with a `/` (`config/get`) is a command of a group, under `<base>/cmd/<group>/+`. */
export const COMMANDS = ['model-update', 'model-install', 'model-rollback', 'alarm', 'forecast-now', 'config/get', 'config/set'] as const;
export type CommandName = (typeof COMMANDS)[number];

/** `<prefix>/<device_id>`. */
export function baseTopic(prefix: string, deviceId: string): string {
  return `${prefix.replace(/\/+$/, '')}/${deviceId}`;
}
