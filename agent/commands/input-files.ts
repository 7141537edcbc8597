/**
 * Files named on the command line (a model, a labels file) are read by loaders that trust what they get:
 * they are checked first to be regular files, since `/dev/zero` never ends and a FIFO without a writer
 * never opens. A missing file is left for the loader to report in its own words.
 */
import { CliError, ExitCode } from '../lib/exit-codes.js';
import { checkRegularFile, InputFileError } from '../lib/input-file.js';

/** Throws a CliError (66) naming the option when `path` exists and is not a regular file on a disk. */
export async function checkInputFile(option: string, path: string): Promise<void> {
  try {
    await checkRegularFile(path);
  } catch (err) {
    if (err instanceof InputFileError) throw new CliError(`${option}: ${err.message}`, ExitCode.NO_INPUT);
  }
}
