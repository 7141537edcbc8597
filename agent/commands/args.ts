import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../lib/exit-codes.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `util.parseArgs` in strict mode, with its errors turned into one-line usage errors (exit status 2), so
 * every subcommand parses the same way. cli.ts already names the command in front of the message.
 */
export function parseCommandArgs<O extends Options>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    // parseArgs explains some errors over several lines ("ambiguous" option values): keep one line.
    throw new UsageError((err as Error).message.replace(/\s*\n\s*/g, ' '));
  }
}

/** Parses a numeric option, naming it in the error. */
export function numberOption(name: string, raw: string | undefined, check: (n: number) => boolean = Number.isFinite): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !check(value)) throw new UsageError(`--${name}: invalid value ${JSON.stringify(raw)}`);
  return value;
}
