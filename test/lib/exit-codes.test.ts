import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliError, ExitCode, UsageError } from '../../agent/lib/exit-codes.js';
import { packageRoot } from '../../agent/lib/paths.js';

describe('ExitCode', () => {
  it('uses the sysexits.h numbers for what they mean there', () => {
    expect(ExitCode).toMatchObject({ OK: 0, USAGE: 2, DATA_ERROR: 65, NO_INPUT: 66, UNAVAILABLE: 69, SOFTWARE: 70, IO_ERROR: 74, CONFIG: 78 });
  });

  it('is the list the README gives users, no more and no less', () => {
    const readme = readFileSync(join(packageRoot(), 'README.md'), 'utf8');
    const sentence = /Exit statuses follow sysexits: ([^.]+)\./.exec(readme.replace(/\s+/g, ' '))?.[1];
    expect(sentence, 'README.md has no "Exit statuses follow sysexits: ..." sentence').toBeDefined();
    const documented = [...sentence!.matchAll(/(?:^|, )(\d+) /g)].map((m) => Number(m[1]));
    expect(documented.sort((a, b) => a - b)).toEqual(Object.values(ExitCode).sort((a, b) => a - b));
  });
});

describe('UsageError', () => {
  it('is a CliError with the usage exit status, and keeps its message', () => {
    const err = new UsageError('--interval: "soon" is not a number');
    expect(err).toBeInstanceOf(CliError);
    expect(err).toMatchObject({ name: 'UsageError', exitCode: ExitCode.USAGE, message: '--interval: "soon" is not a number' });
  });
});
