/**
 * Payload schemas of what the agent says about itself rather than what it senses: the state of each model
 * role's updates (Home Assistant's update entity) and what an operator announces, the diagnostics, and the
 * retained `<base>/info`. The topic table in schemas.ts ties them to their topics.
 */
import type { JSONSchemaType } from 'ajv';
import type { DiagnosticsPayload, InfoPayload, ModelAvailablePayload, ModelUpdatePayload } from './topics.js';
import { device, id, requiredNullable, ts } from './fields.js';

/** `<base>/models/<role>/update`: the fields of Home Assistant's MQTT update entity, plus id and ts. */
export const modelUpdate: JSONSchemaType<ModelUpdatePayload> = {
  type: 'object',
  properties: {
    id,
    ts,
    installed_version: requiredNullable({ type: 'string', description: 'The version the pipeline serves (null: no model serves this role).' }),
    latest_version: requiredNullable({ type: 'string', description: 'The version announced on `<base>/models/<role>/available`; the installed one when none is announced.' }),
    title: { type: 'string', minLength: 1 },
    release_summary: requiredNullable({ type: 'string', description: "The announcement's `summary`, or why the last install failed.", maxLength: 255 }),
    in_progress: { type: 'boolean' },
    update_percentage: requiredNullable({ type: 'number', description: '0-100 while the download runs with a known length; null otherwise.', minimum: 0, maximum: 100 }),
  },
  required: ['id', 'ts', 'installed_version', 'latest_version', 'title', 'release_summary', 'in_progress', 'update_percentage'],
  additionalProperties: false,
};

/** `<base>/models/<role>/available`: what an operator announces (the agent checks it the same way when it arrives). */
export const modelAvailable: JSONSchemaType<ModelAvailablePayload> = {
  type: 'object',
  properties: {
    version: { type: 'string', minLength: 1 },
    url: { type: 'string', pattern: '^(https|file)://', description: 'https:// or file://' },
    sha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' },
    signature: { type: 'string', minLength: 1, nullable: true, description: 'Base64 Ed25519 signature of the canonical manifest (needed unless `ota.allow_unsigned_remote_updates`).' },
    summary: { type: 'string', nullable: true, description: 'Release notes for Home Assistant (cut to 255 characters).' },
    name: { type: 'string', minLength: 1, nullable: true, description: "Name recorded in the manifest; default: the URL's file name." },
  },
  required: ['version', 'url', 'sha256'],
  additionalProperties: false,
};

export const diagnostics: JSONSchemaType<DiagnosticsPayload> = {
  type: 'object',
  properties: {
    id,
    ts,
    device,
    outbox: {
      type: 'object',
      properties: {
        depth: { type: 'integer', minimum: 0, description: 'Messages waiting for the broker.' },
        oldest_age_s: requiredNullable({ type: 'number', description: 'Age of the oldest waiting message in seconds (null: none waits).', minimum: 0 }),
      },
      required: ['depth', 'oldest_age_s'],
      additionalProperties: false,
    },
    last_inference_ms: requiredNullable({ type: 'number', description: 'Time of the last detector inference in ms (null: none since start).', minimum: 0 }),
    frames_dropped: { type: 'integer', minimum: 0, description: 'Frames the cameras dropped since start, all cameras together.' },
    frames_dropped_by_camera: {
      type: 'object',
      description: 'Frames each camera dropped since start, by camera name (`main`: the one camera of `camera:`); a camera that dropped none yet is absent.',
      required: [],
      additionalProperties: { type: 'integer', minimum: 0 },
    },
    cpu_temperature_c: requiredNullable({ type: 'number', description: 'CPU temperature (null: the thermal zone file cannot be read).' }),
    forecast_mae_celsius: requiredNullable({ type: 'number', description: 'Mean absolute error of the forecasts scored over the last 24 h (null: none yet).', minimum: 0 }),
  },
  required: ['id', 'ts', 'device', 'outbox', 'last_inference_ms', 'frames_dropped', 'frames_dropped_by_camera', 'cpu_temperature_c', 'forecast_mae_celsius'],
  additionalProperties: false,
};

const infoModel = {
  type: 'object',
  description: 'The active model of the role; null when none is loaded.',
  properties: { name: { type: 'string', minLength: 1 }, version: { type: 'string', minLength: 1 } },
  required: ['name', 'version'],
  additionalProperties: false,
  nullable: true,
} as never; // a required nullable object: JSONSchemaType cannot type it (see requiredNullable)

export const info: JSONSchemaType<InfoPayload> = {
  type: 'object',
  properties: {
    id,
    ts,
    device,
    versions: {
      type: 'object',
      properties: {
        agent: { type: 'string', minLength: 1, description: 'edge-agent\'s version (package.json).' },
        node: { type: 'string', minLength: 1, description: 'The Node.js version running it.' },
        models: { type: 'object', properties: { intruder: infoModel, forecast: infoModel }, required: ['intruder', 'forecast'], additionalProperties: false },
      },
      required: ['agent', 'node', 'models'],
      additionalProperties: false,
    },
    config: { type: 'object', required: [], description: 'The effective configuration (file, environment and command line over the defaults), secrets redacted as `[redacted]`.' },
    config_schema: { type: 'object', required: [], description: 'The JSON Schema of the configuration: every key with its description, default and range.' },
    remote_config: { type: 'boolean', description: 'Whether `cmd/config/set` is accepted (`remote_config.enabled`).' },
    restart_required: { type: 'array', items: { type: 'string' }, description: 'Keys changed by `cmd/config/set` that take effect at the next restart.' },
  },
  required: ['id', 'ts', 'device', 'versions', 'config', 'config_schema', 'remote_config', 'restart_required'],
  additionalProperties: false,
};
