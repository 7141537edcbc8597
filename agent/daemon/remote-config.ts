/**
 * Remote configuration through the command router (zigbee2mqtt's `bridge/request/options` and
 * `bridge/info`, in this agent's envelope):
 *
 *   `cmd/config/get` `{}`                  -> the effective configuration, secrets redacted
 *   `cmd/config/set` `{"config": {...}}`   -> a partial configuration merged into the file, validated
 *       against the schema exactly as at start (file + environment + command line, every problem at
 *       once), written atomically with the previous file kept as `<file>.previous`, the live keys
 *       applied at once (agent/daemon/live-config.ts), the others listed as `restart_required`.
 *   `<base>/info`, retained: versions, the effective configuration (redacted) and the JSON Schema;
 *       published at start and after each set.
 *
 * Secure by default: `cmd/config/set` is refused unless the device's own file sets `remote_config.enabled`,
 * because MQTT topic access is then its only authentication; and even then it cannot touch what decides
 * who the device trusts and where it talks to (LOCAL_ONLY). Without a configuration file (the embedded
 * demo) it writes `<data_dir>/config.yaml`, which the agent reads when started with `--config` on it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isObj, type Obj } from '../config/config-values.js';
import { ConfigError, ConfigLoader, type ConfigSource } from '../config/load.js';
import type { ConfigProblem } from '../config/env.js';
import { mergeIntoConfigText } from '../config/file-edit.js';
import { keepUnchangedSecrets, redactConfig } from '../config/redact.js';
import { configSchema } from '../config/schema.js';
import type { AgentConfig } from '../config/types.js';
import { writeFileAtomic } from '../lib/atomic-file.js';
import type { Logger } from '../lib/log.js';
import { SerialQueue } from '../lib/serial-queue.js';
import type { InfoPayload } from '../mqtt/contract/topics.js';
import type { MessageBuilder } from '../mqtt/messages.js';
import { CommandError, type RemoteCommands } from '../mqtt/remote-commands.js';
import type { ComponentHealth, Service } from '../runtime/service.js';
import type { OutboxMessage } from '../store/types.js';
import { keepProvisionedIdentity } from './aws-identity.js';
import { applyLive, changedKeys, type LiveTargets } from './live-config.js';

/** Keys only the device's own file sets, and why: a remote writer must not widen its own power. */
export const LOCAL_ONLY: Readonly<Record<string, string>> = {
  remote_config: 'remote configuration is switched on and off on the device only',
  device_id: 'the device id names its topics: a remote change would move the device away from its operator',
  data_dir: 'the data folder holds the database and the installed models',
  mqtt: 'the broker address and credentials: a wrong remote value cuts the device off for good',
  'ota.public_key': 'the key that model updates must be signed with',
  'ota.allow_unsigned_remote_updates': 'whether model updates need a signature',
  'ota.ca': 'the CAs trusted for model downloads',
};

/** The file `cmd/config/set` writes when the agent runs without one. */
export const REMOTE_CONFIG_FILE = 'config.yaml';

export interface RemoteConfigDeps {
  /** The running configuration: its live keys are updated in place. */
  config: AgentConfig;
  /** Where the running configuration came from, loaded again the same way to validate a change. */
  source: ConfigSource;
  commands: Pick<RemoteCommands, 'register'>;
  publish: (messages: OutboxMessage[]) => boolean;
  messages: Pick<MessageBuilder, 'info'>;
  live: LiveTargets;
  versions: () => InfoPayload['versions'];
  logger: Logger;
}


/** What a remote change did. */
export interface ConfigChange {
  [key: string]: unknown;
  file: string;
  previous_file: string | null;
  changed: string[];
  applied: string[];
  restart_required: string[];
}

export class RemoteConfig implements Service {
  readonly name = 'remote-config';
  private readonly loader = new ConfigLoader();
  /** One set at a time: each merges into the file the previous one wrote. */
  private readonly sets = new SerialQueue();
  /** Keys the file changed that wait for a restart. */
  private pending: string[] = [];
  private counts = { sets: 0, refused: 0 };

  constructor(private readonly deps: RemoteConfigDeps) {}

  start(): Promise<void> {
    this.deps.commands.register(this, 'config/get', async () => ({ config: redactConfig(this.deps.config), restart_required: this.pending }));
    this.deps.commands.register(this, 'config/set', ({ body }) => {
      const partial = body['config'];
      if (!isObj(partial)) throw new CommandError('invalid_request', 'the payload must be {"config": {...}}: the keys to change, as in the configuration file');
      return this.change(partial);
    });
    this.publishInfo();
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    await this.sets.drain();
  }

  health(): ComponentHealth {
    return { state: 'ok', enabled: this.deps.config.remote_config.enabled, file: this.file(), ...this.counts, restart_required: this.pending };
  }

  /** The file a set writes: the one the agent was started with, else `<data_dir>/config.yaml`. */
  private file(): string {
    return this.deps.source.file ?? join(this.deps.config.data_dir, REMOTE_CONFIG_FILE);
  }

  /**
   * Merges `partial` (keys as in the configuration file) into the file, validated as at start, and
   * applies it; one change at a time. `cmd/config/set` and the AWS IoT `config` shadow both come here.
   * Rejects with a CommandError; `invalid_config` carries every problem in `data.problems`.
   */
  change(partial: Obj): Promise<ConfigChange> {
    return this.sets.run(() => this.merge(partial));
  }

  private async merge(partial: Obj): Promise<ConfigChange> {
    const { config, source, logger } = this.deps;
    if (!config.remote_config.enabled) {
      this.counts.refused++;
      throw new CommandError('disabled', 'remote configuration is off on this device: set remote_config.enabled: true in its own configuration file to accept cmd/config/set (docs/fleet.md)');
    }
    const given = structuredClone(partial);
    const problems = [...localOnlyProblems(given), ...keepUnchangedSecrets(given, config)];
    const file = this.file();
    const current = await readIfExists(file);
    let next: AgentConfig | null = null;
    let text = '';
    try {
      text = mergeIntoConfigText(file, current, given);
      next = keepProvisionedIdentity(config, this.loader.load({ ...source, file, text }));
    } catch (err) {
      if (err instanceof ConfigError) problems.push(...err.problems);
      else problems.push({ path: '', message: `cannot merge into ${file}: ${(err as Error).message}` });
    }
    if (problems.length > 0 || next === null) {
      this.counts.refused++;
      throw new CommandError('invalid_config', problemSummary(problems), { problems });
    }
    const previous = current === null ? null : `${file}.previous`;
    try {
      if (previous !== null) await writeFileAtomic(previous, current!);
      await writeFileAtomic(file, text);
    } catch (err) {
      this.counts.refused++;
      throw new CommandError('write_failed', `nothing changed: cannot write ${file} (${(err as Error).message}); with systemd the folder must be writable (docs/fleet.md)`);
    }
    const changed = changedKeys(config, next);
    const { applied } = applyLive(changed, config, next, this.deps.live);
    this.pending = changedKeys(config, next);
    this.counts.sets++;
    logger.info({ file, applied, restart_required: this.pending }, `configuration changed remotely: ${applied.length} applied now, ${this.pending.length} at the next restart`);
    this.publishInfo();
    return { file, previous_file: previous, changed, applied, restart_required: this.pending };
  }

  private publishInfo(): void {
    const { config, messages, versions } = this.deps;
    const info = messages.info({
      versions: versions(),
      config: redactConfig(config),
      config_schema: configSchema as unknown as Obj,
      remote_config: config.remote_config.enabled,
      restart_required: this.pending,
    });
    if (!this.deps.publish([info])) this.deps.logger.error('could not queue <base>/info');
  }
}

/**
 * One problem per local-only key the partial sets, and per `<key>_file` (a remote writer must not make the
 * agent read a file of its choosing). Each is removed from the partial, so the validation that follows
 * never reads such a file, nor quotes it in a problem.
 */
function localOnlyProblems(partial: Obj, at: string[] = []): ConfigProblem[] {
  return Object.entries(partial).flatMap(([key, value]) => {
    const path = [...at, key].join('.');
    const reason = LOCAL_ONLY[path] ?? (key.endsWith('_file') ? 'secrets come from files that only the device\'s owner places' : undefined);
    if (reason) {
      delete partial[key];
      return [{ path, message: `cannot be set remotely: ${reason}` }];
    }
    return isObj(value) ? localOnlyProblems(value, [...at, key]) : [];
  });
}

function problemSummary(problems: ConfigProblem[]): string {
  const lines = problems.map((p) => `${p.path ? `${p.path}: ` : ''}${p.message}`);
  return `invalid configuration, nothing changed (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${lines.join('; ')}`;
}

async function readIfExists(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CommandError('read_failed', `cannot read ${file}: ${(err as Error).message}`);
  }
}
