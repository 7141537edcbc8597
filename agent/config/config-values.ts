/**
 * Reading a configuration before it is known to be valid (the loader and its checks run on the merged
 * values even when the schema found problems): objects, sections of them, and where a problem is.
 */
export type Obj = Record<string, unknown>;

/** A key path with list indexes (`intruder.zones[1].name` is `['intruder', 'zones', 1, 'name']`). */
export type KeyPath = (string | number)[];

/** Reports a problem at a key path. */
export type ReportAt = (path: KeyPath, message: string) => void;

export function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

/** `node[key]` when it is an object, else an empty one: a check reads only values of the right shape. */
export function section(node: Obj, key: string): Obj {
  const value = node[key];
  return isObj(value) ? value : {};
}
