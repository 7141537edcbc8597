/**
 * Command-line options that stand for a configuration key (`detect --threads` is `intruder.threads`) are
 * checked as the configuration file is: against that key's schema, whole number or not, within its range,
 * and the error names the option, the key and the rule. `detect --threads 1000` was accepted while the
 * configuration caps threads at 64.
 */
import { schemaLeaves } from '../config/env.js';
import type { LeafSchema } from '../config/schema.js';
import { UsageError } from '../lib/exit-codes.js';
import { quote } from '../lib/quote.js';

const LEAVES: ReadonlyMap<string, LeafSchema> = new Map(schemaLeaves().map((leaf) => [leaf.path.join('.'), leaf.schema]));

function types(schema: LeafSchema): readonly string[] {
  return Array.isArray(schema.type) ? schema.type : [schema.type];
}

/** What is wrong with `value` for `schema`, in the words of the configuration's errors, or null. */
function numberProblem(schema: LeafSchema, value: number): string | null {
  if (!Number.isFinite(value)) return 'must be a number';
  if (types(schema).includes('integer') && !Number.isInteger(value)) return 'must be a whole number';
  if (schema.minimum !== undefined && value < schema.minimum) return `must be >= ${schema.minimum}`;
  if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) return `must be > ${schema.exclusiveMinimum}`;
  if (schema.maximum !== undefined && value > schema.maximum) return `must be <= ${schema.maximum}`;
  return null;
}

/** The number `--<option> <raw>` gives `key`, checked against the key's schema; undefined when the option is absent. */
export function configNumberOption(option: string, raw: string | undefined, key: string): number | undefined {
  if (raw === undefined) return undefined;
  const schema = LEAVES.get(key);
  if (!schema) throw new Error(`--${option}: no configuration key ${key}`);
  const value = raw.trim() === '' ? NaN : Number(raw);
  const problem = numberProblem(schema, value);
  if (problem) throw new UsageError(`--${option}: ${problem} (${key}), got ${quote(raw)}`);
  return value;
}
