/**
 * `edge-agent doctor`: checks this machine, its hardware and the configuration, printing each check
 * with pass/warn/fail and a hint. Exit status 1 when a required check fails.
 */
import { numberOption, parseCommandArgs } from './args.js';
import { loadConfig } from '../config/load.js';
import { CHECKS, machineContext } from '../doctor/index.js';
import { formatOutcome, formatSummary, requiredFailed, runChecks } from '../doctor/runner.js';
import { ExitCode } from '../lib/exit-codes.js';
import { createLogger, silentLogger } from '../lib/log.js';

const USAGE = `usage: edge-agent doctor [options]

Checks Node.js and the CPU architecture, the data folder, the clock, the models, the camera (one real
capture), the temperature sensor (one reading), the alarm GPIO and the MQTT broker, as the configuration
describes them. Prints PASS, WARN or FAIL for each, with a hint; exits 1 when a required check fails.

options:
  --config FILE     the configuration to check (default: the embedded demo)
  --timeout S       seconds a capture, a reading or a broker connection may take (default 15)
  --json            print the results as JSON
  --verbose         log what the drivers do (on stderr)`;

export async function main(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    config: { type: 'string' },
    timeout: { type: 'string' },
    json: { type: 'boolean' },
    verbose: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return ExitCode.OK;
  }
  const timeoutS = numberOption('timeout', values.timeout, (n) => Number.isFinite(n) && n > 0) ?? 15;
  const config = loadConfig({ file: values.config });
  // Driver logs would interleave with the report: off unless asked for, and then on stderr.
  const logger = values.verbose ? createLogger('debug', process.stderr) : silentLogger();
  const context = machineContext(config, logger, timeoutS * 1000);
  if (!values.json) process.stdout.write(`edge-agent doctor${values.config ? ` (${values.config})` : ' (embedded demo configuration)'}\n`);
  const outcomes = await runChecks(CHECKS, context, (outcome) => {
    if (!values.json) process.stdout.write(formatOutcome(outcome) + '\n');
  });
  if (values.json) process.stdout.write(JSON.stringify({ ok: !requiredFailed(outcomes), checks: outcomes }, null, 2) + '\n');
  else process.stdout.write(formatSummary(outcomes) + '\n');
  return requiredFailed(outcomes) ? ExitCode.FAILURE : ExitCode.OK;
}
