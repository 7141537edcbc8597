/**
 * The MQTT contract as data: every topic below the base topic, what it carries, and the JSON Schema of
 * each JSON payload. `JSONSchemaType<T>` ties each schema to its payload type in agent/mqtt/contract/topics.ts, so the
 * two cannot drift; docs/mqtt.md is generated from this table (scripts/docs/generate.ts) and a test keeps it
 * in step. Subscribers and tests validate messages with a `PayloadValidator`.
 */
import { Ajv, type JSONSchemaType, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type {
  CommandProgressPayload,
  ModelInfoPayload,
  CommandResponsePayload,
  ForecastModelRef,
  ForecastScorePayload,
  IntruderAlertPayload,
  ModelRef,
  ScoreWindowPayload,
  StoreAlertPayload,
  TemperatureAlertPayload,
  TemperatureForecastPayload,
  TemperatureTelemetryPayload,
} from './topics.js';
import { diagnostics, info, modelAvailable, modelUpdate } from './device-schemas.js';
import { device, id, requiredNullable, ts } from './fields.js';

const modelRef: JSONSchemaType<ModelRef> = {
  type: 'object',
  description: 'The model that produced the result.',
  properties: { name: { type: 'string', minLength: 1 }, version: { type: 'string', minLength: 1 } },
  required: ['name', 'version'],
  additionalProperties: false,
};

/** The retained `<base>/models/<role>` payload. */
const modelInfo: JSONSchemaType<ModelInfoPayload> = {
  type: 'object',
  properties: {
    role: { type: 'string', enum: ['intruder', 'forecast'] },
    name: { type: 'string', minLength: 1 },
    version: { type: 'string', minLength: 1 },
    sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    activated_at: { type: 'string', format: 'date-time' },
  },
  required: ['role', 'name', 'version', 'sha256', 'activated_at'],
  additionalProperties: false,
};

const intruderAlert: JSONSchemaType<IntruderAlertPayload> = {
  type: 'object',
  properties: {
    id,
    ts,
    device,
    event: { type: 'string', enum: ['start', 'update', 'end'], description: 'An intrusion starts, its objects change, or it ends.' },
    event_id: { type: 'string', minLength: 1, description: 'Shared by the start, updates and end of one intrusion.' },
    schema_version: {
      type: 'integer',
      const: 4,
      description: 'Version of this payload: 4 added `camera`; 3 added `zones` to each object; 2 added `track_id`, `top_score` and `stationary` (version 1 had no such key).',
    },
    camera: { type: 'string', minLength: 1, description: 'The camera that saw it: `main` for the one camera of `camera:`, else its name under `cameras`.' },
    intruder: { type: 'boolean', description: 'Whether the event has confirmed objects (false in `end`).' },
    objects: {
      type: 'array',
      description: 'The confirmed (tracked) objects, highest confidence first; in `end`, the last ones seen.',
      items: {
        type: 'object',
        properties: {
          class: { type: 'string', minLength: 1, description: 'The label (COCO class).' },
          confidence: { type: 'number', minimum: 0, maximum: 1, description: 'Its score on the last frame it was seen on.' },
          bbox: {
            type: 'object',
            description: 'In pixels of the camera frame.',
            properties: { xmin: { type: 'number' }, ymin: { type: 'number' }, xmax: { type: 'number' }, ymax: { type: 'number' } },
            required: ['xmin', 'ymin', 'xmax', 'ymax'],
            additionalProperties: false,
          },
          track_id: { type: 'string', description: 'The same for one object across frames and messages while it is tracked.' },
          top_score: { type: 'number', minimum: 0, maximum: 1, description: 'Its best score since it was first seen.' },
          stationary: { type: 'boolean', description: 'Not moving: it keeps the event open but raises no alert and does not extend the alarm.' },
          zones: { type: 'array', items: { type: 'string' }, description: 'The `intruder.zones` its bottom centre is in now (empty without zones).' },
        },
        required: ['class', 'confidence', 'bbox', 'track_id', 'top_score', 'stationary', 'zones'],
        additionalProperties: false,
      },
    },
    total_objects: { type: 'integer', minimum: 0, description: 'Number of items in `objects`.' },
    model: modelRef,
  },
  required: ['id', 'ts', 'device', 'event', 'event_id', 'schema_version', 'camera', 'intruder', 'objects', 'total_objects', 'model'],
  additionalProperties: false,
};

const telemetry: JSONSchemaType<TemperatureTelemetryPayload> = {
  type: 'object',
  properties: {
    id,
    ts,
    celsius: requiredNullable({ type: 'number', description: 'The temperature; null when the reading is invalid.' }),
    sensor: { type: 'string', minLength: 1, description: 'The sensor, e.g. `bme280@0x76`.' },
    valid: { type: 'boolean' },
    error: { type: 'string', nullable: true, description: 'Why the reading is invalid (only when `valid` is false).' },
  },
  required: ['id', 'ts', 'celsius', 'sensor', 'valid'],
  additionalProperties: false,
};

const forecastModel: JSONSchemaType<ForecastModelRef> = {
  type: 'object',
  description: 'The model that made the forecast, or `persistence` (the last reading) standing in for a model that lost to it over the last 24 h.',
  properties: {
    name: { type: 'string', minLength: 1 },
    version: { type: 'string', minLength: 1 },
    reason: { type: 'string', nullable: true, minLength: 1, description: 'Why persistence was served (only then).' },
    instead_of: { ...modelRef, nullable: true, description: 'The model persistence stands in for (only then).' },
  },
  required: ['name', 'version'],
  additionalProperties: false,
};

const forecast: JSONSchemaType<TemperatureForecastPayload> = {
  type: 'object',
  properties: {
    id,
    ts,
    predicted_celsius: { type: 'number', description: 'Predicted temperature, 2 decimals.' },
    horizon_s: { type: 'number', exclusiveMinimum: 0, description: 'Seconds from the last reading to the predicted one.' },
    unit: { type: 'string', const: 'Celsius' },
    based_on: {
      type: 'object',
      description: 'The window of readings the forecast was made from.',
      properties: { from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' }, n: { type: 'integer', minimum: 1 } },
      required: ['from', 'to', 'n'],
      additionalProperties: false,
    },
    model: forecastModel,
  },
  required: ['id', 'ts', 'predicted_celsius', 'horizon_s', 'unit', 'based_on', 'model'],
  additionalProperties: false,
};

function scoreWindow(span: string): JSONSchemaType<ScoreWindowPayload> {
  return {
    type: 'object',
    description: `Forecasts whose target time fell in the ${span} before \`ts\`.`,
    properties: {
      mae_celsius: requiredNullable({ type: 'number', description: "Mean absolute error of the model's forecasts; null when none was scored." }),
      persistence_mae_celsius: requiredNullable({ type: 'number', description: 'Mean absolute error of persistence (the last reading) on the same forecasts.' }),
      skill: requiredNullable({ type: 'number', description: '1 - mae / persistence mae: above 0 the model beats persistence; null when unknown.' }),
      scored: { type: 'integer', minimum: 0, description: 'Forecasts scored.' },
    },
    required: ['mae_celsius', 'persistence_mae_celsius', 'skill', 'scored'],
    additionalProperties: false,
  };
}

const forecastScore: JSONSchemaType<ForecastScorePayload> = {
  type: 'object',
  properties: {
    id,
    ts,
    device,
    model: { ...modelRef, description: 'The active model, whose forecasts are scored (also while persistence is served).' },
    last_24h: scoreWindow('24 h'),
    last_7d: scoreWindow('7 days'),
    fallback: {
      type: 'object',
      description: 'Whether forecasts are served by persistence because the model lost to it over the last 24 h.',
      properties: {
        active: { type: 'boolean' },
        reason: requiredNullable({ type: 'string', description: 'Why (null when not active).' }),
      },
      required: ['active', 'reason'],
      additionalProperties: false,
    },
  },
  required: ['id', 'ts', 'device', 'model', 'last_24h', 'last_7d', 'fallback'],
  additionalProperties: false,
};

const temperatureAlert: JSONSchemaType<TemperatureAlertPayload> = {
  type: 'object',
  properties: {
    id,
    ts,
    device,
    kind: { type: 'string', enum: ['high', 'low', 'clear'], description: '`high`/`low`: the forecast crossed the threshold; `clear`: it came back inside (with hysteresis).' },
    threshold_c: { type: 'number' },
    predicted_celsius: { type: 'number' },
    horizon_s: { type: 'number', exclusiveMinimum: 0 },
    forecast_id: { type: 'string', minLength: 1, description: 'The `id` of the forecast message that triggered it.' },
  },
  required: ['id', 'ts', 'device', 'kind', 'threshold_c', 'predicted_celsius', 'horizon_s', 'forecast_id'],
  additionalProperties: false,
};

const storeAlert: JSONSchemaType<StoreAlertPayload> = {
  type: 'object',
  properties: {
    id,
    ts,
    device,
    kind: { type: 'string', const: 'database_recovered', description: 'The database failed its check at start: it was moved aside and a fresh one started.' },
    reason: { type: 'string', minLength: 1, description: "What SQLite's quick check (or the open) said." },
    moved_to: { type: 'string', minLength: 1, description: 'File name of the damaged database, kept in the data folder.' },
    recovered_outbox_rows: { type: 'integer', minimum: 0, description: 'Undelivered messages that could be read and were copied into the fresh database.' },
    unreadable_ranges: { type: 'integer', minimum: 0, description: 'Ranges of undelivered messages that could not be read.' },
  },
  required: ['id', 'ts', 'device', 'kind', 'reason', 'moved_to', 'recovered_outbox_rows', 'unreadable_ranges'],
  additionalProperties: false,
};

const transaction = { type: ['string', 'number'], nullable: false, description: "The request's `transaction`, echoed (omitted when it had none)." } as never;
const commandData = { type: 'object', required: [], description: 'Command-specific data (see the commands below); with status `error`, `code` and what the refusal is about.' } as const;

const commandResponse: JSONSchemaType<CommandResponsePayload> = {
  type: 'object',
  properties: {
    id,
    ts,
    command: { type: 'string', minLength: 1, description: 'The command, as named in the request topic.' },
    status: { type: 'string', enum: ['ok', 'error'] },
    data: commandData,
    error: { type: 'string', minLength: 1, nullable: true, description: 'With status `error`: why, in words.' },
    transaction,
  },
  required: ['id', 'ts', 'command', 'status', 'data'],
  additionalProperties: false,
  // An error names why (`error`) and a `data.code`; an ok reply has no `error`.
  if: { properties: { status: { const: 'error' } } },
  then: {
    properties: { error: { type: 'string' }, data: { type: 'object', properties: { code: { type: 'string', minLength: 1 } }, required: ['code'] } },
    required: ['error'],
  },
  else: { properties: { error: false } },
} as JSONSchemaType<CommandResponsePayload>;

const commandProgress: JSONSchemaType<CommandProgressPayload> = {
  type: 'object',
  properties: {
    id,
    ts,
    command: { type: 'string', minLength: 1 },
    data: { type: 'object', required: [], description: 'How far the command has come (`model-update`: role, version, stage and download progress).' },
    transaction,
  },
  required: ['id', 'ts', 'command', 'data'],
  additionalProperties: false,
};

export type PayloadFormat = 'json' | 'text' | 'jpeg';

export interface TopicSpec {
  /** Below the base topic; `+` stands for one level (a model role, a command name). */
  suffix: string;
  direction: 'published' | 'subscribed';
  qos: 0 | 1;
  retained: boolean;
  format: PayloadFormat;
  description: string;
  /** JSON payloads: their schema. Text payloads: the allowed values. */
  schema?: object;
  values?: readonly string[];
}

export const TOPICS: readonly TopicSpec[] = [
  { suffix: 'status', direction: 'published', qos: 1, retained: true, format: 'text', values: ['online', 'offline'], description: 'Availability: `online` on connect, `offline` on shutdown and as the last will.' },
  { suffix: 'alerts/intruder', direction: 'published', qos: 1, retained: false, format: 'json', schema: intruderAlert, description: 'Intrusion events from tracked, confirmed objects: start, update (the set of objects changed), end.' },
  { suffix: 'snapshot', direction: 'published', qos: 1, retained: true, format: 'jpeg', description: 'JPEG of the intrusion\'s best frame (its highest score so far) with exactly that frame\'s boxes and labels drawn (at most 128 KB with AWS IoT Core).' },
  { suffix: 'alerts/intruder/+', direction: 'published', qos: 1, retained: false, format: 'json', schema: intruderAlert, description: 'With `cameras` (several cameras): each camera\'s intrusion events on a topic of its own, as `alerts/intruder` (`alerts/intruder/+` gets them all).' },
  { suffix: 'snapshot/+', direction: 'published', qos: 1, retained: true, format: 'jpeg', description: 'With `cameras`: each camera\'s snapshot, as `snapshot`.' },
  { suffix: 'telemetry/temperature', direction: 'published', qos: 1, retained: false, format: 'json', schema: telemetry, description: 'Every sensor reading, invalid ones included (flagged, with the reason).' },
  { suffix: 'forecast/temperature', direction: 'published', qos: 1, retained: false, format: 'json', schema: forecast, description: 'The temperature forecast, every `forecast.every_s`; made by persistence (the last reading) while the model loses to it, with the reason in `model`.' },
  { suffix: 'forecast/score', direction: 'published', qos: 1, retained: true, format: 'json', schema: forecastScore, description: "How good the forecasts have been: the model's and persistence's rolling errors over 24 h and 7 days, and whether the fallback serves persistence. Updated whenever forecasts mature." },
  { suffix: 'alerts/temperature', direction: 'published', qos: 1, retained: false, format: 'json', schema: temperatureAlert, description: 'A forecast crossed `forecast.high_c` / `forecast.low_c`, or came back inside.' },
  { suffix: 'alerts/store', direction: 'published', qos: 1, retained: false, format: 'json', schema: storeAlert, description: 'The database was damaged (power cut, SD card): moved aside, a fresh one started with the undelivered messages that could be read.' },
  { suffix: 'alarm', direction: 'published', qos: 1, retained: true, format: 'text', values: ['on', 'off'], description: 'State of the alarm output.' },
  { suffix: 'models/+', direction: 'published', qos: 1, retained: true, format: 'json', schema: modelInfo, description: 'The active model of each role (`intruder`, `forecast`).' },
  { suffix: 'models/+/update', direction: 'published', qos: 1, retained: true, format: 'json', schema: modelUpdate, description: "State of each model role's updates, in the fields of Home Assistant's `update` entity: installed and announced version, install in progress and its percentage." },
  { suffix: 'models/+/available', direction: 'subscribed', qos: 1, retained: true, format: 'json', schema: modelAvailable, description: 'Published (retained) by an operator: the version of a role to offer for install. `cmd/model-install` (and Home Assistant\'s Install) installs it exactly as `cmd/model-update` would.' },
  { suffix: 'diagnostics', direction: 'published', qos: 1, retained: true, format: 'json', schema: diagnostics, description: 'How the agent is doing, every `diagnostics.interval_s`: outbox depth and oldest message, last inference time, frames dropped, CPU temperature, forecast error.' },
  { suffix: 'info', direction: 'published', qos: 1, retained: true, format: 'json', schema: info, description: 'Versions (agent, Node.js, models), the effective configuration with secrets redacted, and its JSON Schema; published at start and after each `cmd/config/set`.' },
  { suffix: 'cmd/+', direction: 'subscribed', qos: 1, retained: false, format: 'json', description: 'Remote commands: `alarm`, `forecast-now`, `model-update`, `model-install`, `model-rollback` (the request fields are documented per command); a JSON object, `transaction` echoed in the reply.' },
  { suffix: 'cmd/config/+', direction: 'subscribed', qos: 1, retained: false, format: 'json', description: 'Remote configuration: `get` (`{}`: the effective configuration, secrets redacted) and `set` (`{"config": {...}}`: a partial configuration; off unless `remote_config.enabled`).' },
  { suffix: 'cmd/+/response', direction: 'published', qos: 1, retained: false, format: 'json', schema: commandResponse, description: 'The one reply of every remote command: `status` ok with its `data`, or error with `error` and `data.code`.' },
  { suffix: 'cmd/config/+/response', direction: 'published', qos: 1, retained: false, format: 'json', schema: commandResponse, description: 'The reply of `cmd/config/get` and `cmd/config/set`, in the same envelope as every remote command.' },
  { suffix: 'cmd/+/progress', direction: 'published', qos: 0, retained: false, format: 'json', schema: commandProgress, description: 'Progress of a long command (`model-update`: each stage, the download every 10 %).' },
];

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

function specFor(suffix: string): TopicSpec | undefined {
  const levels = suffix.split('/');
  return TOPICS.find((t) => {
    const pattern = t.suffix.split('/');
    return pattern.length === levels.length && pattern.every((p, i) => p === '+' || p === levels[i]);
  });
}

/** Checks payloads against the contract. The schemas are compiled once, when the validator is made. */
export class PayloadValidator {
  private readonly validators: Map<string, ValidateFunction>;

  constructor() {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    addFormats(ajv);
    this.validators = new Map(TOPICS.filter((t) => t.schema).map((t) => [t.suffix, ajv.compile(t.schema!)]));
  }

  /**
   * Checks a payload published on `<base>/<suffix>`; returns the problems (empty when valid). A topic
   * outside the contract is itself a problem.
   */
  problems(suffix: string, payload: Buffer | string): string[] {
    const spec = specFor(suffix);
    if (!spec) return [`${suffix} is not a topic of the MQTT contract`];
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
    if (spec.format === 'jpeg') return bytes[0] === 0xff && bytes[1] === 0xd8 ? [] : ['payload is not a JPEG'];
    const text = bytes.toString('utf8');
    if (spec.format === 'text') return spec.values?.includes(text) ? [] : [`payload must be one of ${spec.values?.join(', ')} (got ${JSON.stringify(text)})`];
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return ['payload is not JSON'];
    }
    const validate = this.validators.get(spec.suffix);
    if (!validate || validate(data)) return [];
    return (validate.errors ?? []).map((e) => `${e.instancePath || '(payload)'} ${e.message ?? e.keyword}`);
  }
}
