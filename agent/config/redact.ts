/**
 * The configuration as it may leave the device (`cmd/config/get`, `<base>/info`): every leaf the schema
 * marks `x-secret` redacted. A remote editor gets the redacted form back and may send it unchanged in a
 * `cmd/config/set`; keepUnchangedSecrets() recognises it there, so the real secret is kept, never
 * replaced by the marker.
 */
import { isDeepStrictEqual } from 'node:util';
import { schemaLeaves, type ConfigProblem } from './env.js';
import type { SecretKind } from './schema.js';
import type { AgentConfig } from './types.js';
import { isObj, type Obj } from './config-values.js';

export const REDACTED = '[redacted]';


const SECRET_LEAVES = schemaLeaves()
  .filter((leaf) => leaf.schema['x-secret'])
  .map((leaf) => ({ path: leaf.path, kind: leaf.schema['x-secret'] as SecretKind }));

/** A copy of `config` with its secrets redacted. */
export function redactConfig(config: AgentConfig): Obj {
  const copy = structuredClone(config) as unknown as Obj;
  for (const { path, kind } of SECRET_LEAVES) {
    const parent = parentOf(copy, path);
    const key = path[path.length - 1]!;
    if (parent && parent[key] !== undefined && parent[key] !== null) parent[key] = redactValue(parent[key], kind);
  }
  return copy;
}

/**
 * Removes from `partial` (in place) each secret that is the redacted form of the current one: sent back
 * unchanged, it means "keep it". A secret that still holds the marker otherwise is a problem (a
 * half-edited redacted value would replace a real secret with a broken one).
 */
export function keepUnchangedSecrets(partial: Obj, current: AgentConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const { path, kind } of SECRET_LEAVES) {
    const parent = parentOf(partial, path);
    const key = path[path.length - 1]!;
    if (!parent || !Object.hasOwn(parent, key)) continue;
    const currentValue = parentOf(current as unknown as Obj, path)?.[key];
    if (currentValue !== null && currentValue !== undefined && isDeepStrictEqual(parent[key], redactValue(currentValue, kind))) delete parent[key];
    else if (JSON.stringify(parent[key] ?? null).includes(REDACTED)) {
      problems.push({ path: path.join('.'), message: `holds the redaction marker ${REDACTED} but is not the redacted current value: send the real secret, or the redacted value unchanged to keep it` });
    }
  }
  return problems;
}

function redactValue(value: unknown, kind: SecretKind): unknown {
  if (Array.isArray(value)) return value.map((item) => redactValue(item, kind));
  if (kind !== 'url') return REDACTED;
  if (typeof value === 'string') return redactUrlSecrets(value);
  // A map of entries (`cameras`): each string in it that is a URL with credentials is redacted.
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactValue(item, kind)]));
  return value;
}

/**
 * `mqtts://user:pw@host:8883/x?token=1` -> `mqtts://[redacted]@host:8883/x?[redacted]`: the address stays
 * readable (where the device connects), what authenticates does not. A value that is no URL with
 * credentials (`/dev/video0`, `mqtt://host:1883`) is not a secret and stays as it is.
 */
function redactUrlSecrets(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value;
  }
  const hasUser = url.username !== '' || url.password !== '';
  if (!hasUser && url.search === '') return value;
  const path = url.pathname === '/' && !value.includes(`${url.host}/`) ? '' : url.pathname;
  return `${url.protocol}//${hasUser ? `${REDACTED}@` : ''}${url.host}${path}${url.search === '' ? '' : `?${REDACTED}`}`;
}

function parentOf(root: Obj, path: readonly string[]): Obj | null {
  let node: unknown = root;
  for (const key of path.slice(0, -1)) {
    if (!isObj(node)) return null;
    node = node[key];
  }
  return isObj(node) ? node : null;
}
