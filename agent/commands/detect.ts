import { CliError, ExitCode } from '../exit-codes.js';

// Placeholder until the issue that owns `edge-agent detect` lands.
export function main(_argv: string[]): Promise<number> {
  return Promise.reject(new CliError('not implemented yet', ExitCode.SOFTWARE));
}
