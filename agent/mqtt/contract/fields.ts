/** Fields and helpers every payload schema of the contract shares (agent/mqtt/contract/schemas.ts). */
export const id = { type: 'string', format: 'uuid', description: 'Unique message id (UUIDv7): de-duplicate at-least-once delivery with it.' } as const;
export const ts = { type: 'string', format: 'date-time', description: 'ISO-8601 UTC time of the event the message describes.' } as const;
export const device = { type: 'string', minLength: 1, description: 'The device id.' } as const;

/**
 * A required key whose value may be null. JSONSchemaType cannot type that combination (it rejects
 * `nullable: true` on a required key), so this one spot opts out of its check; `required` still
 * demands the key and `nullable` still allows null at run time.
 */
export function requiredNullable(schema: { type: 'number' | 'string'; description: string; minimum?: number; maximum?: number; maxLength?: number }): never {
  return { ...schema, nullable: true } as never;
}
