/**
 * The builders of the configuration schema's nodes (agent/config/schema.ts): sections, and leaves that
 * each validate exactly one value type (`TypedLeaf<T>`), so the schema is checked against AgentConfig
 * when it compiles.
 */
import type { NumberRange } from '../../drivers/camera/index.js';
import type { ClassFilterConfig, ClassFilterOverrides, FramePolygon, ZoneConfig } from './types.js';
import { FRAME_POLYGON, ZONE_ITEM, ZONE_NAME_ITEM } from './zone-schema.js';
import type { LeafSchema, Properties, TypedLeaf, TypedSection } from './schema-types.js';

export function section<T>(description: string, properties: Properties<T>): TypedSection<T> {
  return { type: 'object', description, default: {}, additionalProperties: false, properties };
}

/** The one place a plain leaf gets its value type: the builders below call it with the type they validate. */
export function typed<T>(schema: LeafSchema & { default: T }): TypedLeaf<T> {
  return schema as TypedLeaf<T>;
}

/** `type`, made nullable when the default is null (null then means "not set"). */
function nullableIf(type: string, def: unknown): string | string[] {
  return def === null ? [type, 'null'] : type;
}

export function int(description: string, def: number, minimum: number, maximum?: number): TypedLeaf<number>;
export function int(description: string, def: null, minimum: number, maximum?: number): TypedLeaf<number | null>;
export function int(description: string, def: number | null, minimum: number, maximum?: number): LeafSchema {
  return { type: nullableIf('integer', def), description, default: def, minimum, ...(maximum === undefined ? {} : { maximum }) };
}

type Range = { min?: number; above?: number; max?: number };

export function num(description: string, def: number, range: Range): TypedLeaf<number>;
export function num(description: string, def: null, range: Range): TypedLeaf<number | null>;
export function num(description: string, def: number | null, range: Range): LeafSchema {
  return {
    type: nullableIf('number', def),
    description,
    default: def,
    ...(range.min === undefined ? {} : { minimum: range.min }),
    ...(range.above === undefined ? {} : { exclusiveMinimum: range.above }),
    ...(range.max === undefined ? {} : { maximum: range.max }),
  };
}

/** A number whose range a driver owns (and checks again itself). */
export function limited(description: string, def: number, range: NumberRange): TypedLeaf<number> {
  return range.integer ? int(description, def, range.min, range.max) : num(description, def, { min: range.min, max: range.max });
}

/** A number that may be null (null = inherit), whatever its default: a per-class override. */
function override(description: string, def: number | null, range: Range): TypedLeaf<number | null> {
  return { ...num(description, 0, range), type: ['number', 'null'], default: def } as LeafSchema as TypedLeaf<number | null>;
}

export const bool = (description: string, def: boolean): TypedLeaf<boolean> => typed({ type: 'boolean', description, default: def });

/**
 * `true`, `false` or `auto` (the default). The loader resolves `auto` before anyone reads the value, so
 * the agent's configuration holds a boolean; that is the one place the leaf's type is looser than its key's.
 */
export const autoBool = (description: string): TypedLeaf<boolean> =>
  ({ type: ['boolean', 'string'], description, default: 'auto', enum: [true, false, 'auto'] }) as LeafSchema as TypedLeaf<boolean>;

type StringExtras = Pick<LeafSchema, 'pattern' | 'maxLength' | 'x-path' | 'x-doc-default' | 'x-secret'>;

export const str = (description: string, def: string, extra: StringExtras = {}): TypedLeaf<string> =>
  typed({ type: 'string', description, default: def, minLength: 1, ...extra });

export const optStr = (description: string, extra: StringExtras = {}): TypedLeaf<string | null> =>
  typed<string | null>({ type: ['string', 'null'], description, default: null, minLength: 1, ...extra });

export const optPath = (description: string): TypedLeaf<string | null> => optStr(description, { 'x-path': true });

/** A list of distinct non-empty strings (each at least `minLength` long). */
export const strings = (description: string, def: string[], minItems: number, minLength = 1, extra: Pick<LeafSchema, 'x-secret'> = {}): TypedLeaf<string[]> =>
  typed({ type: 'array', description, default: def, items: { type: 'string', minLength }, minItems, uniqueItems: true, ...extra });

/** One string, or a list of distinct ones (at least one), each non-empty and matching `pattern`. */
export const stringOrList = (description: string, def: string, pattern: string, extra: Pick<LeafSchema, 'x-secret'> = {}): TypedLeaf<string | string[]> =>
  typed<string | string[]>({
    type: ['string', 'array'],
    description,
    default: def,
    minLength: 1,
    pattern,
    items: { type: 'string', minLength: 1, pattern },
    minItems: 1,
    uniqueItems: true,
    ...extra,
  });

export const oneOf = <V extends string | number>(description: string, values: readonly V[], def: NoInfer<V>): TypedLeaf<V> =>
  typed({ type: typeof def === 'number' ? 'integer' : 'string', description, default: def, enum: values });

export function filterSection(description: string, properties: Properties<ClassFilterConfig>): TypedSection<ClassFilterConfig> {
  return section<ClassFilterConfig>(description, properties);
}

/**
 * A class's filter section: each key null unless `defaults` sets it. Null means the default filter's value
 * (`intruder.filters.<class>`), or `intruder.filters`' value (a camera's own, `inherits` says which).
 */
export function overrides(label: string, defaults: Partial<ClassFilterConfig>, inherits: (name: string) => string = (name) => `\`filters.default.${name}\``): TypedSection<ClassFilterOverrides> {
  const key = (name: keyof ClassFilterConfig, range: Range) => override(`\`${name}\` for ${label}; null = ${inherits(name)}.`, defaults[name] ?? null, range);
  return section<ClassFilterOverrides>(`Filter of ${label} detections.`, {
    min_score: key('min_score', { min: 0, max: 1 }),
    threshold: key('threshold', { min: 0, max: 1 }),
    min_area: key('min_area', { min: 0, max: 1 }),
    max_area: key('max_area', { min: 0, max: 1 }),
    min_ratio: key('min_ratio', { min: 0 }),
    max_ratio: key('max_ratio', { min: 0 }),
  });
}

export const polygons = (description: string): TypedLeaf<FramePolygon[]> => typed<FramePolygon[]>({ type: 'array', description, default: [], items: FRAME_POLYGON, maxItems: 100 });
export const zoneNames = (description: string): TypedLeaf<string[]> => typed<string[]>({ type: 'array', description, default: [], items: ZONE_NAME_ITEM, uniqueItems: true });
export const zones = (description: string): TypedLeaf<ZoneConfig[]> => typed<ZoneConfig[]>({ type: 'array', description, default: [], maxItems: 100, items: ZONE_ITEM });
