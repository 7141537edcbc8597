/**
 * `edge-agent doctor`: checks this machine, its hardware and the configuration, printing each check
 * with pass/warn/fail and a hint. Exit status 1 when a required check fails.
 */
import { defineCommand, numberOption } from './command.js';
import { loadConfig } from '../config/load.js';
import { CHECKS, machineContext } from '../doctor/index.js';
import { formatOutcome, formatSummary, requiredFailed, runChecks } from '../doctor/runner.js';
import { ExitCode } from '../lib/exit-codes.js';
import { silentLogger } from '../lib/log.js';

const USAGE = `usage: edge-agent doctor [options]

Checks Node.js and the CPU architecture, the data folder, the clock, the models, the camera (one real
capture), the temperature sensor (one reading), the alarm GPIO, AWS IoT provisioning by claim and the
MQTT broker, as the configuration describes them. Prints PASS, WARN or FAIL for each, with a hint; exits 1 when a required check fails.

options:
  --config FILE     the configuration to check (default: the embedded demo)
  --timeout S       seconds a capture, a reading or a broker connection may take (default 15)
  --json            print the results as JSON
  --verbose         log what the drivers do (on stderr)`;

export const command = defineCommand({
  usage: () => USAGE,
  options: {
    config: { type: 'string' },
    timeout: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values, verbose, logger, io }) {
    const timeoutS = numberOption('timeout', values.timeout, (n) => Number.isFinite(n) && n > 0) ?? 15;
    const config = loadConfig({ file: values.config });
    // Driver warnings would interleave with the report: off unless asked for.
    const context = machineContext(config, verbose ? logger : silentLogger(), timeoutS * 1000);
    const print = (text: string) => io.stdout.write(text + '\n');
    if (!values.json) print(`edge-agent doctor${values.config ? ` (${values.config})` : ' (embedded demo configuration)'}`);
    const outcomes = await runChecks(CHECKS, context, (outcome) => {
      if (!values.json) print(formatOutcome(outcome));
    });
    if (values.json) print(JSON.stringify({ ok: !requiredFailed(outcomes), checks: outcomes }, null, 2));
    else print(formatSummary(outcomes));
    return requiredFailed(outcomes) ? ExitCode.FAILURE : ExitCode.OK;
  },
});
