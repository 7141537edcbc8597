/**
 * Environment overrides, derived from the schema: `mqtt.aws_iot.thing_name` is
 * `EDGE_AGENT_MQTT_AWS_IOT_THING_NAME`. Values are converted by the key's type (numbers, `true`/`false`,
 * `null`, lists as JSON or comma-separated, maps as JSON); a value that does not convert is left as text so the
 * validator reports it like any other mistake, naming the variable. `EDGE_AGENT_<KEY>_FILE` reads a
 * secret from a file (see resolveSecretFiles in agent/config/load.ts).
 */
import { configSchema, isSection, type AnySchema, type LeafSchema, type SectionSchema } from './schema.js';

export const ENV_PREFIX = 'EDGE_AGENT_';

export interface ConfigProblem {
  /** Dotted key path (`mqtt.aws_iot.thing_name`, `intruder.classes[1]`); empty for the file as a whole. */
  path: string;
  message: string;
  /** Where the value came from: `config.yaml:12`, an environment variable's name. */
  source?: string;
}

export interface ConfigLeaf {
  path: string[];
  schema: LeafSchema;
}

/** Every leaf key of a schema, depth first in schema order. */
export function schemaLeaves(schema: SectionSchema = configSchema, prefix: string[] = []): ConfigLeaf[] {
  return Object.entries(schema.properties as Record<string, AnySchema>).flatMap(([key, child]) =>
    isSection(child) ? schemaLeaves(child, [...prefix, key]) : [{ path: [...prefix, key], schema: child }],
  );
}

export function envVarName(path: readonly string[]): string {
  return ENV_PREFIX + path.join('_').toUpperCase();
}

export interface EnvOverrides {
  /** A partial configuration object. */
  values: Record<string, unknown>;
  /** Dotted key path -> the variable that set it. */
  origins: Map<string, string>;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

function types(schema: LeafSchema): string[] {
  return Array.isArray(schema.type) ? schema.type : [schema.type];
}

export function parseEnvValue(raw: string, schema: LeafSchema): unknown {
  const t = types(schema);
  const text = raw.trim();
  if (t.includes('null') && (text === '' || text.toLowerCase() === 'null')) return null;
  if (t.includes('integer') || t.includes('number')) {
    const n = Number(text);
    return text !== '' && Number.isFinite(n) ? n : raw;
  }
  if (t.includes('boolean')) {
    if (TRUE.has(text.toLowerCase())) return true;
    if (FALSE.has(text.toLowerCase())) return false;
    return raw;
  }
  if (t.includes('object') && text.startsWith('{')) return jsonOr(text, raw);
  if (t.includes('array')) {
    if (text.startsWith('[')) return jsonOr(text, raw);
    return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  }
  return raw;
}

/** The JSON value of `text`, or `raw` for the validator to report. */
function jsonOr(text: string, raw: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return raw;
  }
}

function setIn(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next === 'object' && next !== null) node = next as Record<string, unknown>;
    else node = node[key] = {};
  }
  node[path[path.length - 1]!] = value;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The candidate closest to `word` if it is close enough to be a likely typo. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of candidates) {
    const d = editDistance(word.toLowerCase(), name.toLowerCase());
    if (!best || d < best.d) best = { name, d };
  }
  return best && best.d <= Math.max(2, Math.floor(word.length / 10)) ? best.name : undefined;
}

/**
 * Reads `EDGE_AGENT_*` variables. Variables that start with a configuration section's name but match
 * no key (`EDGE_AGENT_MQTT_PASWORD_FILE`) are reported as problems: they are almost certainly typos.
 * Other `EDGE_AGENT_*` variables are left alone (tools use some).
 */
export function readEnvOverrides(env: NodeJS.ProcessEnv, problems: ConfigProblem[]): EnvOverrides {
  const leaves = new Map(schemaLeaves().map((leaf) => [envVarName(leaf.path), leaf]));
  const sections = Object.entries(configSchema.properties as Record<string, AnySchema>)
    .filter(([, s]) => isSection(s))
    .map(([key]) => `${ENV_PREFIX}${key.toUpperCase()}_`);
  const values: Record<string, unknown> = {};
  const origins = new Map<string, string>();
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined || !name.startsWith(ENV_PREFIX)) continue;
    const leaf = leaves.get(name);
    if (leaf) {
      setIn(values, leaf.path, parseEnvValue(raw, leaf.schema));
      origins.set(leaf.path.join('.'), name);
      continue;
    }
    const secretOf = name.endsWith('_FILE') ? leaves.get(name.slice(0, -'_FILE'.length)) : undefined;
    if (secretOf) {
      const path = [...secretOf.path.slice(0, -1), `${secretOf.path[secretOf.path.length - 1]}_file`];
      setIn(values, path, raw);
      origins.set(path.join('.'), name);
      continue;
    }
    if (sections.some((s) => name.startsWith(s))) {
      const suggestion = closest(name, [...leaves.keys()]);
      problems.push({ path: '', message: `environment variable ${name} matches no configuration key${suggestion ? ` (did you mean ${suggestion}?)` : ''}` });
    }
  }
  return { values, origins };
}
