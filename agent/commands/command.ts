/**
 * What every `edge-agent <command>` shares. A command declares its usage text, its options (a
 * util.parseArgs config), its positional arguments and `run`; runCommand parses the command line (adding
 * --help/-h and --verbose), checks the positional arguments, builds the stderr logger, and turns whatever
 * `run` throws into one line on stderr naming the command and an exit status (exit-status.ts), with the
 * stack only under --verbose.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { AgentConfig } from '../config/types.js';
import { ExitCode, UsageError } from '../lib/exit-codes.js';
import { createLogger, type Logger } from '../lib/log.js';

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/** Taken by every command and handled here; commands only read `verbose` from their context. */
const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  verbose: { type: 'boolean' },
} as const;

function parse<O extends OptionSpecs>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options: { ...options, ...COMMON_OPTIONS }, allowPositionals: true, strict: true });
  } catch (err) {
    // parseArgs explains some errors over several lines ("ambiguous" option values): keep one line.
    throw new UsageError((err as Error).message.replace(/\s*\n\s*/g, ' '));
  }
}

export type OptionValues<O extends OptionSpecs> = ReturnType<typeof parse<O>>['values'];

/** Positional arguments by name, in order; a last name ending in `...` takes one or more. */
export type ArgNames = readonly string[];

/** Where a command reads and writes: the process's streams, or a test's. */
export interface CommandIO {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface CommandContext<O extends OptionSpecs> {
  values: OptionValues<O>;
  /** The sub-command (`install` of `models install`), when the command declares `actions`. */
  action: string | undefined;
  /** The positional arguments after the action, as many as the command declared. */
  args: string[];
  verbose: boolean;
  /** Logs on stderr, stdout being the command's output: warnings, everything with --verbose. */
  logger: Logger;
  io: CommandIO;
  /** One line on stderr naming the command, as an error's, for a problem that does not stop it. */
  warn(message: string): void;
}

export interface Command<O extends OptionSpecs = OptionSpecs> {
  /** What --help prints, given the configuration schema's defaults (config-backed options show theirs). */
  usage(defaults: AgentConfig): string;
  /** The command's own options; --help/-h and --verbose are added. */
  options: O;
  /** The positional arguments of a plain command (none when absent). */
  args?: ArgNames;
  /** Or the sub-commands, each with its positional arguments: `models install <role> <source>`. */
  actions?: Record<string, ArgNames>;
  /** Resolves with the exit status; throws for one line on stderr and the status exit-status.ts gives it. */
  run(context: CommandContext<O>): Promise<number>;
}

/** Infers a command's option types from its declaration. */
export function defineCommand<O extends OptionSpecs>(command: Command<O>): Command<O> {
  return command;
}

export function processIO(): CommandIO {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
}

/**
 * Runs `edge-agent <name> ...argv` and resolves with its exit status. `command` may still be loading: a
 * module that fails to import (a native addon built for another Node.js) is reported like any error.
 */
export async function runCommand<O extends OptionSpecs>(
  name: string,
  command: Command<O> | Promise<Command<O>>,
  argv: string[],
  io: CommandIO = processIO(),
): Promise<number> {
  let prefix = `edge-agent ${name}`;
  let verbose = argv.includes('--verbose');
  try {
    const definition = await command;
    const { values, positionals } = parse(argv, definition.options);
    const common = values as { help?: boolean; verbose?: boolean };
    verbose = common.verbose === true;
    if (common.help) {
      const { defaultConfig } = await import('../config/load.js');
      io.stdout.write(definition.usage(defaultConfig()) + '\n');
      return ExitCode.OK;
    }
    const action = actionOf(name, definition, positionals);
    if (action !== undefined) prefix += ` ${action}`;
    const args = argsOf(name, definition, action, positionals);
    const logger = createLogger(verbose ? 'debug' : 'warn', io.stderr);
    const warn = (message: string) => io.stderr.write(`${prefix}: ${message}\n`);
    return await definition.run({ values, action, args, verbose, logger, io, warn });
  } catch (err) {
    io.stderr.write(`${prefix}: ${err instanceof Error ? err.message : String(err)}\n`);
    if (verbose && err instanceof Error && err.stack) io.stderr.write(err.stack + '\n');
    // The table imports the errors of every layer (the configuration loader, the drivers): a command
    // that succeeds does not load it.
    const { exitStatusOf } = await import('./exit-status.js');
    return exitStatusOf(err);
  }
}

/** The sub-command, for a command that declares `actions`. */
function actionOf(name: string, command: Command<OptionSpecs>, positionals: string[]): string | undefined {
  if (!command.actions) return undefined;
  const action = positionals[0];
  const names = Object.keys(command.actions);
  const expected = `expected ${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
  if (action === undefined) throw new UsageError(`no command given (${expected}; see edge-agent ${name} --help)`);
  if (!Object.hasOwn(command.actions, action)) throw new UsageError(`unknown command '${action}' (${expected})`);
  return action;
}

/** The positional arguments after the action, checked against the names the command declares for them. */
function argsOf(name: string, command: Command<OptionSpecs>, action: string | undefined, positionals: string[]): string[] {
  const names: ArgNames = action === undefined ? (command.args ?? []) : command.actions![action]!;
  const args = action === undefined ? positionals : positionals.slice(1);
  const variadic = names.at(-1)?.endsWith('...') === true;
  if (args.length < names.length) {
    throw new UsageError(`no ${names[args.length]!.replace(/\.\.\.$/, '')} given (see edge-agent ${name} --help)`);
  }
  if (!variadic && args.length > names.length) throw new UsageError(`unexpected argument ${JSON.stringify(args[names.length])}`);
  return args;
}

/** Parses a numeric option, naming it in the error. */
export function numberOption(name: string, raw: string | undefined, check: (n: number) => boolean = Number.isFinite): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !check(value)) throw new UsageError(`--${name}: invalid value ${JSON.stringify(raw)}`);
  return value;
}
