/**
 * Loads the configuration: schema defaults (the embedded demo), then the file (YAML, or JSON), then
 * `EDGE_AGENT_*` environment variables, then the caller's overrides (command-line flags). Secrets come
 * from files (`<key>_file`). Everything wrong is reported at once, each problem with its key path,
 * its reason and where the value came from, in one ConfigError (`edge-agent` exits 78 for it).
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { isAlias, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { readRegularFileSync } from '../lib/input-file.js';
import { quote } from '../lib/quote.js';
import { checkConfig } from './checks.js';
import { closest, readEnvOverrides, schemaLeaves, type ConfigProblem } from './env.js';
import { configSchema, isSection, type AnySchema, type SectionSchema } from './schema.js';
import { ConfigError } from './errors.js';
import type { AgentConfig } from './types.js';
import { isObj, type Obj } from './config-values.js';

export type { ConfigProblem } from './env.js';
export { ConfigError } from './errors.js';
export { configSchema } from './schema.js';

export interface LoadConfigOptions {
  /** YAML or JSON file; none = defaults (+ environment + overrides). */
  file?: string;
  /** The file's content, given instead of read (a candidate checked before it is written as `file`). */
  text?: string;
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** A partial configuration applied last (command-line flags); undefined values are ignored. */
  overrides?: object;
  /** Relative paths not from the file are resolved against this (default: the working directory). */
  cwd?: string;
}

/** Where a running configuration came from, to load it again the same way (`cmd/config/set`). */
export type ConfigSource = Omit<LoadConfigOptions, 'text'>;


/** A configuration is a few KB; a file many times larger is a mistake (or an attack), refused unread. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;
/** Secret files hold a password or a few API keys. */
const MAX_SECRET_FILE_BYTES = 64 * 1024;
/**
 * YAML aliases a file may expand (the yaml package's default): far above any real configuration, far
 * below a "billion laughs" file whose aliases of aliases would expand to gigabytes.
 */
const MAX_ALIAS_COUNT = 100;

const PATH_KEYS = schemaLeaves()
  .filter((leaf) => leaf.schema['x-path'])
  .map((leaf) => leaf.path);

const MAP_PATH_KEYS = schemaLeaves()
  .filter((leaf) => isObj(leaf.schema.additionalProperties))
  .map((leaf) => {
    const entry = leaf.schema.additionalProperties as { properties?: Record<string, { 'x-path'?: boolean }> };
    return { path: leaf.path, keys: Object.entries(entry.properties ?? {}).filter(([, schema]) => schema['x-path']).map(([key]) => key) };
  });

/** Loads configurations against the schema, compiled (with ajv, defaults filled in) once per loader. */
export class ConfigLoader {
  private readonly validate: ValidateFunction;

  constructor() {
    const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true });
    ajv.addKeyword({ keyword: 'x-path', schemaType: 'boolean' });
    ajv.addKeyword({ keyword: 'x-doc-default', schemaType: 'string' });
    ajv.addKeyword({ keyword: 'x-secret', schemaType: 'string' });
    // The root object has no default (strict mode rejects one there); every section below it has `{}`.
    const { default: _rootDefault, ...rootSchema } = configSchema;
    this.validate = ajv.compile(rootSchema);
  }

  load(opts: LoadConfigOptions = {}): AgentConfig {
    const problems: ConfigProblem[] = [];
    const cwd = opts.cwd ?? process.cwd();
    const file = opts.file === undefined ? null : readConfigFile(opts.file, problems, opts.text);
    const env = readEnvOverrides(opts.env ?? process.env, problems);
    const overrides = (opts.overrides ?? {}) as Obj;
    const merged = mergeConfig(mergeConfig(file?.data ?? {}, env.values), overrides);
    const locate = (path: string[]): string | undefined => {
      const dotted = path.join('.');
      if (env.origins.has(dotted)) return env.origins.get(dotted);
      if (hasIn(overrides, path)) return 'command line';
      return file?.locate(path);
    };
    resolveSecretFiles(merged, configSchema, [], problems, locate);
    const awsProfile = hasIn(merged, ['mqtt', 'aws_iot', 'thing_name']) || hasIn(merged, ['mqtt', 'aws_iot', 'provisioning', 'template'])
      && (((merged.mqtt as Obj).aws_iot as Obj).provisioning as Obj).template !== null;
    if (awsProfile && !hasIn(merged, ['mqtt', 'prefix'])) {
      // AWS IoT policies are usually written for `things/<thing>/...`.
      (merged.mqtt as Obj).prefix = 'things';
    }
    const given = structuredClone(merged);
    if (!this.validate(merged)) {
      for (const err of this.validate.errors ?? []) problems.push(describeAjvError(err, merged, locate));
    }
    resolveEmbeddedBroker(merged, given);
    // After validation, which fills in defaults (`./data`); paths from the file were resolved already.
    resolvePaths(merged, cwd);
    problems.push(...checkConfig(merged, locate));
    if (problems.length > 0) throw new ConfigError(inFileOrder(dedupe(problems)), opts.file);
    return merged as unknown as AgentConfig;
  }
}

/**
 * The embedded demo configuration: every default of the schema, read from it without compiling a
 * validator (the defaults are valid; tests check that loading an empty file gives the same).
 */
export function defaultConfig(): AgentConfig {
  const config: Obj = {};
  for (const { path, schema } of schemaLeaves()) {
    let node = config;
    for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Obj;
    node[path[path.length - 1]!] = structuredClone(schema.default);
  }
  resolveEmbeddedBroker(config, {});
  return config as unknown as AgentConfig;
}

/**
 * `mqtt.embedded_broker.enabled: auto` (the default): the demo broker runs exactly when the user named no
 * broker of their own (`given`, the configuration before defaults, has no `mqtt.url`). Never an open
 * broker beside the one the owner configured.
 */
function resolveEmbeddedBroker(config: Obj, given: Obj): void {
  const embedded = (config.mqtt as Obj | undefined)?.embedded_broker as Obj | undefined;
  if (embedded?.enabled === 'auto') embedded.enabled = !hasIn(given, ['mqtt', 'url']);
}

/** Loads one configuration (a loader of its own; keep a ConfigLoader to load several). */
export function loadConfig(opts: LoadConfigOptions = {}): AgentConfig {
  return new ConfigLoader().load(opts);
}

interface ParsedFile {
  data: Obj;
  locate(path: string[]): string | undefined;
}

function readConfigFile(path: string, problems: ConfigProblem[], given?: string): ParsedFile | null {
  let text: string;
  try {
    text = given ?? readRegularFileSync(path, MAX_CONFIG_FILE_BYTES).toString('utf8');
  } catch (err) {
    problems.push({ path: '', message: `cannot read the configuration file ${path}: ${(err as Error).message}` });
    return null;
  }
  const lineCounter = new LineCounter();
  // YAML 1.2 is a superset of JSON, so one parser serves both (with line numbers for both).
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const name = path.split('/').pop() ?? path;
  for (const err of doc.errors) {
    const { line, col } = lineCounter.linePos(err.pos[0]);
    problems.push({ path: '', message: `not valid YAML/JSON: ${err.message.split('\n')[0]}`, source: `${name}:${line}:${col}` });
  }
  if (doc.errors.length > 0) return null;
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // The yaml package's refusal of an alias bomb; anything else it throws is a bug to report as such.
    if (!/alias/i.test((err as Error).message)) throw err;
    problems.push({ path: '', message: `its YAML aliases expand too much (over ${MAX_ALIAS_COUNT}): refused as a resource exhaustion attack`, source: firstAliasAt(doc, lineCounter, name) });
    return null;
  }
  if (data === null || data === undefined) return { data: {}, locate: () => undefined };
  if (typeof data !== 'object' || Array.isArray(data)) {
    problems.push({ path: '', message: `must be a mapping of keys to values (got ${Array.isArray(data) ? 'a list' : typeof data})`, source: name });
    return null;
  }
  // A relative path in the file means "beside the file", wherever the agent was started from.
  resolvePaths(data as Obj, dirname(resolve(path)));
  return { data: data as Obj, locate: (p) => lineOf(doc, lineCounter, p, name) };
}

/** `file:line` of the document's first alias (`*name`). */
function firstAliasAt(doc: Document, lineCounter: LineCounter, name: string): string {
  let line: number | null = null;
  visit(doc, {
    Alias(_key, node) {
      if (isAlias(node) && node.range) line = lineCounter.linePos(node.range[0]).line;
      return visit.BREAK;
    },
  });
  return line === null ? name : `${name}:${line}`;
}

function lineOf(doc: Document, lineCounter: LineCounter, path: string[], name: string): string | undefined {
  for (let n = path.length; n > 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node?.range) return `${name}:${lineCounter.linePos(node.range[0]).line}`;
  }
  return undefined;
}

/** `top` over `base`: objects merge key by key, anything else (lists included) replaces; undefined is skipped. */
export function mergeConfig(base: Obj, top: Obj): Obj {
  const out: Obj = { ...base };
  for (const [key, value] of Object.entries(top)) {
    if (value === undefined) continue;
    out[key] = isObj(value) && isObj(out[key]) ? mergeConfig(out[key] as Obj, value) : value;
  }
  return out;
}

function hasIn(obj: Obj, path: readonly string[]): boolean {
  let node: unknown = obj;
  for (const key of path) {
    if (!isObj(node) || !Object.hasOwn(node, key) || node[key] === undefined) return false;
    node = node[key];
  }
  return true;
}

function resolvePaths(config: Obj, base: string): void {
  const resolveKey = (node: unknown, key: string) => {
    if (isObj(node) && typeof node[key] === 'string' && node[key] !== '' && !isAbsolute(node[key])) node[key] = resolve(base, node[key]);
  };
  for (const path of PATH_KEYS) {
    let node: unknown = config;
    for (const key of path.slice(0, -1)) node = isObj(node) ? node[key] : undefined;
    resolveKey(node, path[path.length - 1]!);
  }
  // Each entry of a map (`cameras.<name>.dir`) has the path keys of its entry schema.
  for (const { path, keys } of MAP_PATH_KEYS) {
    const map = path.reduce<unknown>((node, key) => (isObj(node) ? node[key] : undefined), config);
    if (!isObj(map)) continue;
    for (const entry of Object.values(map)) for (const key of keys) resolveKey(entry, key);
  }
}

/**
 * `api_keys_file: /run/secrets/keys` sets `api_keys` from the file (one item a line for lists, the
 * first line otherwise), so secrets stay out of the configuration file and the environment. Keys
 * that are themselves `*_file` in the schema (mqtt.password_file) are paths read by their user.
 */
function resolveSecretFiles(node: Obj, schema: SectionSchema, at: string[], problems: ConfigProblem[], locate: (p: string[]) => string | undefined): void {
  const props = schema.properties as Record<string, AnySchema>;
  for (const key of Object.keys(node)) {
    const child = props[key];
    if (child && isSection(child) && isObj(node[key])) resolveSecretFiles(node[key], child, [...at, key], problems, locate);
    if (child || !key.endsWith('_file')) continue;
    const target = key.slice(0, -'_file'.length);
    const targetSchema = props[target];
    if (!targetSchema || isSection(targetSchema)) continue; // left for the validator: unknown key
    const path = [...at, key];
    const file = node[key];
    delete node[key];
    if (target in node) {
      problems.push({ path: path.join('.'), message: `set either ${target} or ${key}, not both`, source: locate(path) });
    } else if (typeof file !== 'string' || file === '') {
      problems.push({ path: path.join('.'), message: 'must be the path of a file', source: locate(path) });
    } else {
      try {
        const text = readRegularFileSync(file, MAX_SECRET_FILE_BYTES).toString('utf8');
        const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
        node[target] = targetSchema.type === 'array' ? lines : (lines[0] ?? '');
      } catch (err) {
        problems.push({ path: path.join('.'), message: `cannot read the secret file: ${(err as Error).message}`, source: locate(path) });
      }
    }
  }
}

const PATTERN_HINTS: Record<string, string> = {
  device_id: 'must be 1 to 128 letters, digits or `_ . : -`, starting with a letter or digit (it is a topic level)',
  'mqtt.url': 'must start with mqtt://, mqtts://, ws:// or wss://',
  'mqtt.prefix': 'must be a topic without wildcards (+ #) or a trailing /',
  'mqtt.aws_iot.thing_name': 'must be 1 to 128 letters, digits or `: _ -` (an AWS IoT thing name)',
  'mqtt.aws_iot.provisioning.template': 'must be 1 to 36 letters, digits, `_` or `-` (an AWS IoT provisioning template name)',
  'sensor.device': 'must be a 1-Wire id such as 28-0000075a1b2c',
};

/** What the names of a map's entries may be. */
const NAME_HINTS: Record<string, string> = {
  cameras: '1 to 32 letters, digits, `_` or `-`, starting with a letter or digit (a camera\'s name is a topic level and part of Home Assistant ids)',
};

function describeAjvError(err: ErrorObject, data: Obj, locate: (p: string[]) => string | undefined): ConfigProblem {
  const segments = err.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const value = segments.reduce<unknown>((node, key) => (isObj(node) || Array.isArray(node) ? (node as Obj)[key] : undefined), data);
  // Quoted, not copied: a 50 MB value must not become a 50 MB error message.
  const got = ` (got ${quote(value)})`;
  const params = err.params as Record<string, unknown>;
  let message: string;
  // A map's entry name (`cameras.<name>`): ajv reports it twice (the pattern, then propertyNames), worded once here.
  const entryName = (err as ErrorObject & { propertyName?: string }).propertyName ?? (err.keyword === 'propertyNames' ? String(params.propertyName) : undefined);
  if (entryName !== undefined) {
    segments.push(entryName);
    const key = segments.filter((s) => !/^\d+$/.test(s)).slice(0, -1).join('.');
    return { path: segments.join('.'), message: `is not a valid name: ${NAME_HINTS[key] ?? 'see docs/configuration.md'}`, source: locate(segments) };
  }
  switch (err.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      segments.push(key);
      const section = segments.slice(0, -1).reduce<AnySchema | undefined>(
        (s, k) => (s && isSection(s) ? (s.properties as Record<string, AnySchema>)[k] : undefined),
        configSchema,
      );
      const known = section && isSection(section) ? Object.keys(section.properties) : [];
      const suggestion = closest(key, known);
      message =
        key === 'password'
          ? 'unknown key: put the password in a file and set password_file to its path'
          : `unknown key${suggestion ? ` (did you mean ${suggestion}?)` : ''}`;
      break;
    }
    case 'type':
      message = `must be ${String(params.type).split(',').map((t) => (t === 'integer' ? 'a whole number' : t === 'null' ? 'null' : `a ${t}`)).join(' or ')}${got}`;
      break;
    case 'enum':
      message = `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}${got}`;
      break;
    case 'pattern':
      // A list's items share their key's hint (mqtt.url[1] is worded as mqtt.url).
      message = `${PATTERN_HINTS[segments.filter((s) => !/^\d+$/.test(s)).join('.')] ?? `must match ${String(params.pattern)}`}${got}`;
      break;
    case 'required':
      segments.push(String(params.missingProperty));
      message = 'is required';
      break;
    case 'uniqueItems':
      message = `must not list the same item twice${got}`;
      break;
    case 'minLength':
      message = params.limit === 1 ? 'must not be empty' : `must be at least ${String(params.limit)} characters long`;
      break;
    default:
      message = `${err.message ?? err.keyword}${got}`;
  }
  const path = segments.map((s, i) => (/^\d+$/.test(s) && i > 0 ? `[${s}]` : (i > 0 ? '.' : '') + s)).join('');
  return { path, message, source: locate(segments.filter((s) => !/^\d+$/.test(s))) };
}

/** Problems located in the file first, top to bottom, then the rest (environment, file as a whole) as found. */
function inFileOrder(problems: ConfigProblem[]): ConfigProblem[] {
  const line = (p: ConfigProblem) => Number(/:(\d+)(?::\d+)?$/.exec(p.source ?? '')?.[1] ?? Infinity);
  return problems.map((p, i) => ({ p, i })).sort((a, b) => line(a.p) - line(b.p) || a.i - b.i).map(({ p }) => p);
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\n${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
