/**
 * `edge-agent models list | install | activate | rollback`: the model registry under `data_dir`, from
 * the shell. Installing runs the same fetch → verify → validate path as an over-the-air update; the
 * running daemon picks up an activation made here at its next start (an MQTT `cmd/model-update` or an
 * AWS IoT job swaps without a restart).
 */
import { pathToFileURL } from 'node:url';
import { parseCommandArgs } from './args.js';
import { loadConfig } from '../config/load.js';
import type { AgentConfig } from '../config/types.js';
import { CliError, ExitCode, UsageError } from '../lib/exit-codes.js';
import { createLogger } from '../lib/log.js';
import { OtaError, type OtaErrorCode } from '../ota/errors.js';
import { formatBytes } from '../ota/fetch.js';
import { createUpdater, type UpdaterParts } from '../ota/setup.js';
import type { ProgressListener } from '../ota/updater.js';
import { normalizeSha256 } from '../ota/verify.js';
import type { ActiveModel, InstalledModel } from '../ota/registry.js';
import { ProgressBar } from '../ota/progress-bar.js';

const USAGE = `usage: edge-agent models <command> [options]

commands:
  list                                   installed models per role, the active one marked
  install <role> <source> --sha256 HEX   download (https:// or file://, or a local path), verify,
                                         validate and install a model; roles: intruder, forecast
  activate <role> <version>              validate an installed version and make it the active one
  rollback <role>                        go back to the version active before the current one

options:
  --config FILE       configuration (data_dir, ota.*, intruder.*)
  --data-dir DIR      data_dir: the registry is <data_dir>/models
  --sha256 HEX        install: sha256 of the model file (mandatory)
  --version V         install: version to record (default: the first 12 hex digits of the sha256)
  --signature B64     install: Ed25519 signature of the manifest (required when ota.public_key is set)
  --name NAME         install: model name to record (default: the source's file name)
  --activate          install: activate it right away
  --json              list: JSON instead of a table

A running agent keeps its model until it restarts; use MQTT cmd/model-update for a hot swap.`;

const OPTIONS = {
  config: { type: 'string' },
  'data-dir': { type: 'string' },
  sha256: { type: 'string' },
  version: { type: 'string' },
  signature: { type: 'string' },
  name: { type: 'string' },
  activate: { type: 'boolean' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseCommandArgs<typeof OPTIONS>>['values'];

/** How each refusal becomes an exit status: the caller's mistake, bad data, an unreachable server, the disk. */
const EXIT_BY_CODE: Record<OtaErrorCode, number> = {
  invalid_request: ExitCode.USAGE,
  unsupported_source: ExitCode.USAGE,
  not_found: ExitCode.NO_INPUT,
  http_error: ExitCode.UNAVAILABLE,
  tls_error: ExitCode.UNAVAILABLE,
  network_error: ExitCode.UNAVAILABLE,
  timeout: ExitCode.UNAVAILABLE,
  too_large: ExitCode.DATA_ERROR,
  truncated: ExitCode.UNAVAILABLE,
  checksum_mismatch: ExitCode.DATA_ERROR,
  signature_missing: ExitCode.DATA_ERROR,
  signature_invalid: ExitCode.DATA_ERROR,
  invalid_model: ExitCode.DATA_ERROR,
  install_failed: ExitCode.IO_ERROR,
  activation_failed: ExitCode.IO_ERROR,
  interrupted: ExitCode.FAILURE,
  cancelled: ExitCode.FAILURE,
};

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS);
  const [command, ...args] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(USAGE + '\n');
    return values.help ? ExitCode.OK : ExitCode.USAGE;
  }
  const config = loadConfig({ file: values.config, overrides: { data_dir: values['data-dir'] } });
  const parts = openRegistry(config);
  await parts.registry.cleanup();
  try {
    switch (command) {
      case 'list':
        return await list(parts, expectArgs(command, args, 0), values);
      case 'install':
        return await install(parts, expectArgs(command, args, 2), values);
      case 'activate':
        return await activate(parts, expectArgs(command, args, 2));
      case 'rollback':
        return await rollback(parts, expectArgs(command, args, 1));
      default:
        throw new UsageError(`models: unknown command '${command}' (expected list, install, activate or rollback)`);
    }
  } catch (err) {
    if (err instanceof OtaError) throw new CliError(err.message, EXIT_BY_CODE[err.code]);
    throw err;
  }
}

function openRegistry(config: AgentConfig): UpdaterParts {
  try {
    return createUpdater(config, { logger: createLogger('warn', process.stderr) });
  } catch (err) {
    throw new CliError((err as Error).message, ExitCode.CONFIG);
  }
}

function expectArgs(command: string, args: string[], count: number): string[] {
  if (args.length !== count) throw new UsageError(`models ${command}: expected ${count} argument${count === 1 ? '' : 's'}, got ${args.length}\n${USAGE}`);
  return args;
}

async function list({ registry }: UpdaterParts, _args: string[], values: Values): Promise<number> {
  const models = await registry.list();
  if (values.json) {
    process.stdout.write(JSON.stringify(models.map((m) => ({ role: m.role, active: m.active, ...m.manifest, path: m.path })), null, 2) + '\n');
    return ExitCode.OK;
  }
  if (models.length === 0) {
    process.stdout.write(`no models installed under ${registry.root}\n`);
    return ExitCode.OK;
  }
  const rows = [['', 'ROLE', 'VERSION', 'NAME', 'SIZE', 'INSTALLED', 'SOURCE'], ...models.map(row)];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) process.stdout.write(r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd() + '\n');
  return ExitCode.OK;
}

function row(model: InstalledModel): string[] {
  const { manifest } = model;
  return [model.active ? '*' : '', model.role, manifest.version, manifest.name, formatBytes(manifest.size), manifest.installed_at, manifest.source];
}

async function install({ updater }: UpdaterParts, [role, source]: string[], values: Values): Promise<number> {
  if (values.sha256 === undefined) throw new UsageError('models install: --sha256 is required (the sha256 of the model file)');
  const sha256 = normalizeSha256(values.sha256);
  const request = {
    role: role!,
    version: values.version ?? sha256.slice(0, 12),
    url: toUrl(source!),
    sha256,
    ...(values.signature !== undefined ? { signature: values.signature } : {}),
    ...(values.name !== undefined ? { name: values.name } : {}),
  };
  if (values.activate) {
    printActive(await withProgress((progress) => updater.update(request, progress)));
    return ExitCode.OK;
  }
  const { role: installedRole, manifest } = await withProgress((progress) => updater.install(request, progress));
  process.stdout.write(
    `installed ${installedRole} ${manifest.name} ${manifest.version} (${formatBytes(manifest.size)}); ` +
      `activate it with: edge-agent models activate ${installedRole} ${manifest.version}\n`,
  );
  return ExitCode.OK;
}

async function activate({ updater }: UpdaterParts, [role, version]: string[]): Promise<number> {
  printActive(await withProgress((progress) => updater.activate(role!, version!, progress)));
  return ExitCode.OK;
}

async function rollback({ updater }: UpdaterParts, [role]: string[]): Promise<number> {
  printActive(await withProgress((progress) => updater.rollback(role!, progress)));
  return ExitCode.OK;
}

function printActive(active: ActiveModel): void {
  const { name, version } = active.manifest;
  process.stdout.write(`active ${active.role} model: ${name} ${version} (restart the agent, or update over MQTT, to serve it)\n`);
}

/** A source given as a plain path is a local file. */
function toUrl(source: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(source) ? source : pathToFileURL(source).href;
}

/** Runs an operation with a progress bar on a terminal, one line per stage otherwise (logs, pipes, tests). */
async function withProgress<T>(operation: (progress: ProgressListener) => Promise<T>): Promise<T> {
  if (process.stderr.isTTY) {
    const bar = new ProgressBar(process.stderr);
    try {
      return await operation((p) => bar.update(p));
    } finally {
      bar.finish();
    }
  }
  let stage: string | null = null;
  return operation((p) => {
    if (p.stage === stage) return;
    stage = p.stage;
    process.stderr.write(`${p.stage}...\n`);
  });
}
