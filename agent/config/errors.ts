import type { ConfigProblem } from './env.js';

/**
 * Everything wrong with a configuration, one problem a line under the summary, each with its key path,
 * its reason and where the value came from. Its own module, so that whoever handles it (the CLI's exit
 * status table) does not load the schema validator.
 */
export class ConfigError extends Error {
  constructor(
    readonly problems: ConfigProblem[],
    file?: string,
  ) {
    const where = file ? ` in ${file}` : '';
    const lines = problems.map((p) => `  - ${p.path ? `${p.path}: ` : ''}${p.message}${p.source ? ` [${p.source}]` : ''}`);
    super(`invalid configuration${where} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`);
    this.name = 'ConfigError';
  }
}

