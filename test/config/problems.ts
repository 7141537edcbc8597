import { expect } from 'vitest';
import { exitStatusOf } from '../../agent/commands/exit-status.js';
import { ConfigError, type ConfigProblem } from '../../agent/config/load.js';
import { ExitCode } from '../../agent/lib/exit-codes.js';

/** The problems of the ConfigError `load` throws (which `edge-agent` turns into exit status 78). */
export function problemsOf(load: () => unknown): ConfigProblem[] {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect(exitStatusOf(err)).toBe(ExitCode.CONFIG);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}
