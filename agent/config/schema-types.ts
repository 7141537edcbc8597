/**
 * The types of the configuration schema's nodes: leaves (plain JSON Schema with the agent's `x-`
 * annotations) and sections. schema.ts builds the schema from them and re-exports them.
 */
import type { ItemSchema } from './zone-schema.js';

/** A leaf as the loader, the environment overrides and the docs read it. */
export interface LeafSchema {
  type: string | string[];
  description: string;
  default: unknown;
  enum?: readonly unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  items?: ItemSchema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  /** A map of named entries (`cameras`): each value's schema, and what its names may be. */
  additionalProperties?: object;
  propertyNames?: { pattern: string };
  maxProperties?: number;
  /** A file or folder path: a relative one is resolved against the config file's folder. */
  'x-path'?: boolean;
  /** Shown in the docs instead of a default computed on this machine. */
  'x-doc-default'?: string;
  /**
   * A secret, redacted wherever the configuration leaves the device (`cmd/config/get`, `<base>/info`):
   * `value`, the whole value (each item of a list); `url`, the user name, password and query of a URL.
   */
  'x-secret'?: SecretKind;
}

export type SecretKind = 'value' | 'url';


/** The compile-time mark of the value type a leaf validates; it exists only in the type system. */
declare const VALUE: unique symbol;

/** A leaf that validates values of type T (and no other): only the builders below make one. */
export type TypedLeaf<T> = LeafSchema & { default: T; readonly [VALUE]: (value: T) => T };

export interface SectionSchema {
  type: 'object';
  description: string;
  default: Record<string, never>;
  additionalProperties: false;
  properties: Record<string, AnySchema>;
}

/**
 * Sections are objects with fixed keys; lists, maps keyed by any string (`cameras`) and everything else
 * are leaves of exactly the key's type.
 */
export type Properties<T> = {
  [K in keyof T]-?: T[K] extends readonly unknown[] ? TypedLeaf<T[K]> : T[K] extends object ? (string extends keyof T[K] ? TypedLeaf<T[K]> : TypedSection<T[K]>) : TypedLeaf<T[K]>;
};

export type TypedSection<T> = Omit<SectionSchema, 'properties'> & { properties: Properties<T> };

export type AnySchema = LeafSchema | SectionSchema;

