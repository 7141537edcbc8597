/**
 * `edge-agent models list | install | activate | rollback`: the model registry under `data_dir`, from
 * the shell. Installing runs the same fetch → verify → validate path as an over-the-air update; the
 * running daemon picks up an activation made here at its next start (an MQTT `cmd/model-update` or an
 * AWS IoT job swaps without a restart).
 */
import { pathToFileURL } from 'node:url';
import { defineCommand, type CommandIO, type OptionValues } from './command.js';
import { loadConfig } from '../config/load.js';
import type { AgentConfig } from '../config/types.js';
import { ExitCode, UsageError } from '../lib/exit-codes.js';
import { formatBytes } from '../ota/fetch.js';
import { createUpdater, type UpdaterParts } from '../ota/setup.js';
import type { ProgressListener } from '../ota/updater.js';
import { normalizeSha256 } from '../ota/verify.js';
import type { ActiveModel, InstalledModel } from '../ota/registry.js';
import { ProgressBar } from '../ota/progress-bar.js';

const usage = ({ data_dir }: AgentConfig) => `usage: edge-agent models <command> [options]

commands:
  list                                   installed models per role, the active one marked
  install <role> <source> --sha256 HEX   download (https:// or file://, or a local path), verify,
                                         validate and install a model; roles: intruder, forecast
  activate <role> <version>              validate an installed version and make it the active one
  rollback <role>                        go back to the version active before the current one

options:
  --config FILE       configuration (data_dir, ota.*, intruder.*)
  --data-dir DIR      data_dir: the registry is <data_dir>/models (default ${data_dir})
  --sha256 HEX        install: sha256 of the model file (mandatory)
  --version V         install: version to record (default: the first 12 hex digits of the sha256)
  --signature B64     install: Ed25519 signature of the manifest (required when ota.public_key is set)
  --name NAME         install: model name to record (default: the source's file name)
  --activate          install: activate it right away
  --json              list: JSON instead of a table
  --verbose           log what the updater does (stderr)

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
} as const;

type Values = OptionValues<typeof OPTIONS>;

export const command = defineCommand({
  usage,
  options: OPTIONS,
  actions: { list: [], install: ['role', 'source'], activate: ['role', 'version'], rollback: ['role'] },
  async run({ values, action, args, logger, io }) {
    const config = loadConfig({ file: values.config, overrides: { data_dir: values['data-dir'] } });
    // Someone with a shell on the device: a signature is needed only when ota.public_key is set.
    const parts = createUpdater(config, { logger, origin: 'local' });
    await parts.registry.cleanup();
    switch (action) {
      case 'list':
        return list(parts, values, io);
      case 'install':
        return install(parts, config, args, values, io);
      case 'activate':
        return activate(parts, config, args, io);
      default:
        return rollback(parts, config, args, io);
    }
  },
});

async function list({ registry }: UpdaterParts, values: Values, io: CommandIO): Promise<number> {
  const models = await registry.list();
  if (values.json) {
    io.stdout.write(JSON.stringify(models.map((m) => ({ role: m.role, active: m.active, ...m.manifest, path: m.path })), null, 2) + '\n');
    return ExitCode.OK;
  }
  if (models.length === 0) {
    io.stdout.write(`no models installed under ${registry.root}\n`);
    return ExitCode.OK;
  }
  const rows = [['', 'ROLE', 'VERSION', 'NAME', 'SIZE', 'INSTALLED', 'SOURCE'], ...models.map(row)];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) io.stdout.write(r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd() + '\n');
  return ExitCode.OK;
}

function row(model: InstalledModel): string[] {
  const { manifest } = model;
  const cells = [model.active ? '*' : '', model.role, manifest.version, manifest.name, formatBytes(manifest.size), manifest.installed_at, manifest.source];
  // Manifests written before names were checked may hold a newline or a NUL: one row stays one line.
  return cells.map((cell) => cell.replace(/\p{C}/gu, '?'));
}

async function install({ updater }: UpdaterParts, config: AgentConfig, [role, source]: string[], values: Values, io: CommandIO): Promise<number> {
  if (values.sha256 === undefined) throw new UsageError('--sha256 is required (the sha256 of the model file)');
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
    printActive(await withProgress(io, (progress) => updater.update(request, progress)), config, io);
    return ExitCode.OK;
  }
  const { role: installedRole, manifest } = await withProgress(io, (progress) => updater.install(request, progress));
  io.stdout.write(
    `installed ${installedRole} ${manifest.name} ${manifest.version} (${formatBytes(manifest.size)}); ` +
      `activate it with: edge-agent models activate ${installedRole} ${manifest.version}\n`,
  );
  return ExitCode.OK;
}

async function activate({ updater }: UpdaterParts, config: AgentConfig, [role, version]: string[], io: CommandIO): Promise<number> {
  printActive(await withProgress(io, (progress) => updater.activate(role!, version!, progress)), config, io);
  return ExitCode.OK;
}

async function rollback({ updater }: UpdaterParts, config: AgentConfig, [role]: string[], io: CommandIO): Promise<number> {
  printActive(await withProgress(io, (progress) => updater.rollback(role!, progress)), config, io);
  return ExitCode.OK;
}

/**
 * A running daemon watches the registry's pointer and serves the new active model within seconds, unless
 * its configuration names a model file for the role: that file stays in use, and the user must know.
 */
function printActive(active: ActiveModel, config: AgentConfig, io: CommandIO): void {
  const { name, version } = active.manifest;
  const pinned = config[active.role].model;
  const served = pinned === null ? 'a running agent serves it within seconds' : `a running agent keeps serving ${active.role}.model (${pinned}) while the configuration names it`;
  io.stdout.write(`active ${active.role} model: ${name} ${version} (${served})\n`);
}

/** A source given as a plain path is a local file. */
function toUrl(source: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(source) ? source : pathToFileURL(source).href;
}

/** Runs an operation with a progress bar on a terminal, one line per stage otherwise (logs, pipes, tests). */
async function withProgress<T>({ stderr }: CommandIO, operation: (progress: ProgressListener) => Promise<T>): Promise<T> {
  if (stderr.isTTY) {
    const bar = new ProgressBar(stderr);
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
    stderr.write(`${p.stage}...\n`);
  });
}
