/**
 * JSON Schema of a model's info: the retained `<base>/models/<role>` payload, also embedded in OTA
 * command responses. Its own module because agent/mqtt/contract/schemas.ts and agent/ota/messages.ts both use it and
 * schemas.ts already imports from ota/messages.ts.
 */
import type { JSONSchemaType } from 'ajv';
import type { ModelInfoPayload } from './topics.js';

export const modelInfoSchema: JSONSchemaType<ModelInfoPayload> = {
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
