/**
 * Property-based, bounded in time: random and broken configurations (any text as the file, any JSON
 * value, valid files with one key changed to anything, any EDGE_AGENT_* variables). Every load either
 * gives a configuration whose every key is present and in range, or throws a ConfigError whose problems
 * each name a key (or the file) and a short reason. Never another error, never a hang.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envVarName, schemaLeaves } from '../../agent/config/env.js';
import { ConfigError, ConfigLoader, defaultConfig } from '../../agent/config/load.js';
import type { AgentConfig } from '../../agent/config/types.js';

const LEAVES = schemaLeaves();
const loader = new ConfigLoader();
let dir: string;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'config-fuzz-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs stop at whichever comes first: the count, or the time (a loaded machine gets fewer, never a timeout). */
const BUDGET = { interruptAfterTimeLimit: 20_000, markInterruptAsFailure: false } as const;

function valueAt(config: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], config);
}

/** A loaded configuration: every key there, every number within its schema's range. */
function expectComplete(config: AgentConfig): void {
  for (const { path, schema } of LEAVES) {
    const value = valueAt(config, path);
    expect(value, path.join('.')).not.toBeUndefined();
    if (typeof value !== 'number') continue;
    if (schema.minimum !== undefined) expect(value, path.join('.')).toBeGreaterThanOrEqual(schema.minimum);
    if (schema.exclusiveMinimum !== undefined) expect(value, path.join('.')).toBeGreaterThan(schema.exclusiveMinimum);
    if (schema.maximum !== undefined) expect(value, path.join('.')).toBeLessThanOrEqual(schema.maximum);
  }
  // Nothing leaked into the prototype chain from a `__proto__` key.
  expect(Object.getPrototypeOf(config)).toBe(Object.prototype);
  expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
}

/** Loads `text` as the configuration file with `env`; checks the outcome is one of the two allowed. */
function loadChecked(text: string, env: NodeJS.ProcessEnv = {}): void {
  const file = join(dir, `config-${++n}.yaml`);
  writeFileSync(file, text);
  let config: AgentConfig;
  try {
    config = loader.load({ file, env, cwd: dir });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw new Error(`not a ConfigError for ${JSON.stringify(text.slice(0, 300))}: ${(err as Error).stack}`);
    expect(err.problems.length).toBeGreaterThan(0);
    for (const problem of err.problems) {
      expect(problem.message.length, problem.message.slice(0, 200)).toBeGreaterThan(0);
      // Values are quoted in part: a problem stays readable whatever the file held.
      expect(problem.message.length, problem.message.slice(0, 200)).toBeLessThan(600);
    }
    return;
  }
  expectComplete(config);
}

/** A value of any JSON kind, sometimes long. */
const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.string({ unit: 'binary', maxLength: 3000 }), fc.double(), fc.constantFrom(1e308, -1e308, 2 ** 31, -0, 86_401, 3_000_000));
/** A leaf of the schema, or a made-up key beside it. */
const anyPath = fc.oneof(
  fc.constantFrom(...LEAVES.map((leaf) => leaf.path)),
  fc.tuple(fc.constantFrom(...LEAVES.map((leaf) => leaf.path.slice(0, -1))), fc.string({ minLength: 1, maxLength: 12 })).map(([section, key]) => [...section, key]),
  fc.constantFrom(['__proto__', 'polluted'], ['mqtt', '__proto__'], ['constructor', 'prototype'], ['api_keys_file'], ['http', 'api_keys_file']),
);

function setIn(target: Record<string, unknown>, path: readonly string[], value: unknown): Record<string, unknown> {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = Object.hasOwn(node, key) ? node[key] : undefined;
    if (typeof next !== 'object' || next === null || Array.isArray(next)) Object.defineProperty(node, key, { value: {}, enumerable: true, writable: true, configurable: true });
    node = node[key] as Record<string, unknown>;
  }
  Object.defineProperty(node, path.at(-1)!, { value, enumerable: true, writable: true, configurable: true });
  return target;
}

describe('the configuration loader under random input', () => {
  it('any text as the file', { timeout: 60_000 }, () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 2000 }), (text) => loadChecked(text)), { numRuns: 1500, ...BUDGET });
  });

  it('any JSON value as the file', { timeout: 60_000 }, () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => loadChecked(JSON.stringify(value))), { numRuns: 1500, ...BUDGET });
  });

  it('a valid file with one to three keys set to anything', { timeout: 60_000 }, () => {
    const base = { ...defaultConfig(), data_dir: dir } as unknown as Record<string, unknown>;
    const edits = fc.array(fc.tuple(anyPath, anyValue), { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(edits, fc.boolean(), (changes, asYaml) => {
        const config = structuredClone(base);
        for (const [path, value] of changes) setIn(config, path, value);
        loadChecked(asYaml ? stringify(config) : JSON.stringify(config));
      }),
      { numRuns: 1500, ...BUDGET },
    );
  });

  it('any EDGE_AGENT_* variables', { timeout: 60_000 }, () => {
    const names = fc.oneof(fc.constantFrom(...LEAVES.map((leaf) => envVarName(leaf.path))), fc.string({ maxLength: 20 }).map((s) => `EDGE_AGENT_${s.toUpperCase()}`));
    const env = fc.dictionary(names, fc.string({ unit: 'binary', maxLength: 300 }), { maxKeys: 4 });
    fc.assert(fc.property(env, (variables) => loadChecked(`data_dir: ${dir}\n`, variables)), { numRuns: 1500, ...BUDGET });
  });
});
