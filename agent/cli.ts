#!/usr/bin/env node
/**
 * `edge-agent <command>`: the single entry point systemd and users run. Each command lives in
 * agent/commands/<name>.ts and returns its exit status; errors become one line on stderr (a stack trace
 * only with --verbose).
 */
import { CliError, ExitCode } from './lib/exit-codes.js';

type CommandMain = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ main: CommandMain }> }> = {
  run: { summary: 'run the agent daemon (default config: embedded demo)', load: () => import('./commands/run.js') },
  detect: { summary: 'detect intruders in image files', load: () => import('./commands/detect.js') },
  forecast: { summary: 'forecast the temperature one hour ahead from 60 readings', load: () => import('./commands/forecast.js') },
  capture: { summary: 'capture frames from a camera into a folder', load: () => import('./commands/capture.js') },
  sensor: { summary: 'scan for and read temperature sensors', load: () => import('./commands/sensor.js') },
  models: { summary: 'list, install, activate and roll back models', load: () => import('./commands/models.js') },
  doctor: { summary: 'check this machine, its hardware and the configuration', load: () => import('./commands/doctor.js') },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: edge-agent <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun 'edge-agent <command> --help' for a command's options.`;
}

async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  const [name, ...rest] = argv.filter((a) => a !== '--verbose');
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`edge-agent: unknown command '${name}'\n${usage()}\n`);
    return ExitCode.USAGE;
  }
  try {
    const { main: run } = await command.load();
    return await run(verbose ? [...rest, '--verbose'] : rest);
  } catch (err) {
    const exitCode = err instanceof CliError ? err.exitCode : ExitCode.SOFTWARE;
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`edge-agent ${name}: ${message}\n`);
    if (verbose && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
    return exitCode;
  }
}

process.exitCode = await main(process.argv.slice(2));
