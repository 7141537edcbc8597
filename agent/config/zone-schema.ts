/**
 * The JSON Schemas of zones and masks (`intruder.zones`, `intruder.masks`, `motion.masks`,
 * `intruder.required_zones`, `alarm.zones`): lists whose items are points, polygons and zone objects,
 * which the schema's leaf builders take as `items`. Checks across keys are in zone-checks.ts.
 */

/** What a list's items are: plain JSON Schema (zones and masks are lists of points and of objects). */
export interface ItemSchema {
  type: string;
  description?: string;
  minLength?: number;
  pattern?: string;
  enum?: readonly unknown[];
  minimum?: number;
  maximum?: number;
  items?: ItemSchema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  properties?: Record<string, ItemSchema>;
  required?: string[];
  additionalProperties?: false;
}

/** A point as fractions of the frame's width and height, and a polygon of at least three of them. */
const FRAME_POINT: ItemSchema = { type: 'array', items: { type: 'number', minimum: 0, maximum: 1 }, minItems: 2, maxItems: 2 };
export const FRAME_POLYGON: ItemSchema = { type: 'array', items: FRAME_POINT, minItems: 3, maxItems: 100 };
/** Zone names appear in payloads and Home Assistant: the same characters as a topic level. */
export const ZONE_NAME_ITEM: ItemSchema = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$' };

export const ZONE_ITEM: ItemSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'points'],
  properties: {
    name: { ...ZONE_NAME_ITEM, description: 'Its name in payloads and in `required_zones` / `alarm.zones`.' },
    points: { ...FRAME_POLYGON, description: 'Corners as [x, y] fractions (0..1) of the frame, at least three.' },
    classes: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true, description: 'Classes that count in it; absent or empty = every intruder class.' },
    inertia: { type: 'integer', minimum: 1, maximum: 100, description: 'Consecutive frames inside before an object is in the zone (default 3).' },
  },
};
