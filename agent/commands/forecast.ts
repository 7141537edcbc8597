/**
 * `edge-agent forecast`: the temperature one hour ahead from the last 60 readings, for one window
 * (`--values`) or for JSON lines on stdin (`--batch`), with the shipped model or any model with the
 * same contract (`--model`).
 */
import { defineCommand, type CommandContext, type CommandIO } from './command.js';
import { checkInputFile } from './input-files.js';
import { CliError, ExitCode, UsageError } from '../lib/exit-codes.js';
import { InvalidInputError } from '../../models/errors.js';
import { forecastLines, lineGroups } from '../../models/forecast-lines.js';
import { loadForecaster, validateWindow } from '../../models/forecast.js';
import type { Forecaster } from '../../models/types.js';

const USAGE = `usage: edge-agent forecast [--model FILE] --values v1,v2,...,v60
       edge-agent forecast [--model FILE] --batch < windows.jsonl

Forecasts the temperature one hour after the last of 60 readings taken a minute apart (oldest first).

options:
  --values LIST   the readings in Celsius, comma-separated; prints
                  {"prediction_celsius": ..., "unit": "Celsius", "horizon_s": 3600, "model": {...}}
  --batch         reads {"values": [60 numbers]} lines from stdin and writes one line per input line,
                  in order: {"prediction_celsius": ...} or {"error": "<reason>"} (the batch goes on)
  --model FILE    an ONNX forecaster with the contract in its metadata (default: the shipped model)
  --verbose       print the stack trace with an error

exit status: 0 ok, 2 usage, 65 invalid values (in --batch: some line was invalid), 66 unusable model`;

const OPTIONS = {
  model: { type: 'string' },
  values: { type: 'string' },
  batch: { type: 'boolean' },
} as const;

// Plain decimal numbers only: Number() would also take '', '0x1f' or 'Infinity'.
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The --values list as numbers; the count and range are checked against the model's contract after. */
export function parseValuesOption(text: string): number[] {
  return text.split(',').map((item, i) => {
    const trimmed = item.trim();
    if (!DECIMAL.test(trimmed)) throw new InvalidInputError(`value at index ${i} is not a number: ${JSON.stringify(trimmed)}`);
    return Number(trimmed);
  });
}

async function forecastOne(forecaster: Forecaster, text: string, io: CommandIO): Promise<number> {
  let window: number[];
  try {
    window = validateWindow(parseValuesOption(text), forecaster.contract.window);
  } catch (err) {
    if (err instanceof InvalidInputError) throw new InvalidInputError(`--values: ${err.message}`);
    throw err;
  }
  const prediction = await forecaster.forecast(window);
  const { name, version } = forecaster.info;
  const answer = { prediction_celsius: prediction, unit: forecaster.contract.unit, horizon_s: forecaster.contract.horizon_s, model: { name, version } };
  io.stdout.write(JSON.stringify(answer) + '\n');
  return ExitCode.OK;
}

function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(text, (err) => (err ? reject(err) : resolve())));
}

async function forecastStdin(forecaster: Forecaster, { io, warn }: CommandContext<typeof OPTIONS>): Promise<number> {
  // Without a listener a closed pipe (`| head`) would be an uncaught 'error'; the write callback reports it.
  io.stdout.on('error', () => {});
  io.stdin.setEncoding('utf8');
  let lines = 0;
  let failed = 0;
  for await (const group of lineGroups(io.stdin as AsyncIterable<string>)) {
    const answered = await forecastLines(forecaster, group, lines + 1);
    try {
      await write(io.stdout, answered.output);
    } catch (err) {
      throw new CliError(`cannot write to stdout (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, ExitCode.IO_ERROR);
    }
    lines += group.length;
    failed += answered.failed;
  }
  if (failed === 0) return ExitCode.OK;
  warn(`${failed} of ${lines} lines were invalid`);
  return ExitCode.DATA_ERROR;
}

export const command = defineCommand({
  usage: () => USAGE,
  options: OPTIONS,
  async run(context) {
    const { values } = context;
    if ((values.values === undefined) === (values.batch !== true)) throw new UsageError('give either --values v1,...,v60 or --batch');
    if (values.model !== undefined) await checkInputFile('--model', values.model);
    const forecaster = await loadForecaster(values.model);
    try {
      return values.values !== undefined ? await forecastOne(forecaster, values.values, context.io) : await forecastStdin(forecaster, context);
    } finally {
      await forecaster.close();
    }
  },
});
