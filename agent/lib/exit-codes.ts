/** Process exit codes: 0 ok, 1 partial failure, 2 usage, the rest from sysexits.h. */
export const ExitCode = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  DATA_ERROR: 65, // EX_DATAERR: input data was incorrect
  NO_INPUT: 66, // EX_NOINPUT: an input file (image, model) did not exist or was not readable
  UNAVAILABLE: 69, // EX_UNAVAILABLE: a service (broker, device) is unavailable
  SOFTWARE: 70, // EX_SOFTWARE: internal error
  IO_ERROR: 74, // EX_IOERR
  CONFIG: 78, // EX_CONFIG: configuration error
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * A command's own verdict, with the status it means: the CLI prints the message as one line on stderr
 * and exits with `exitCode`. Errors of the layers below (configuration, drivers, models, updates) are
 * not wrapped in it: agent/commands/exit-status.ts maps their classes.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.USAGE);
    this.name = 'UsageError';
  }
}
