/**
 * The one router for remote commands: requests on `<base>/cmd/<name>`, one reply per request on
 * `<base>/cmd/<name>/response`, in one envelope (zigbee2mqtt's bridge request/response):
 *
 *   request  `{ "transaction"?: string|number, ...fields of the command }` (an empty payload is `{}`, a
 *            bare word such as `test` is `{ "action": "test" }`)
 *   reply    `{ id, ts, command, status: "ok", data, transaction? }`
 *            `{ id, ts, command, status: "error", error, data: { code, ... }, transaction? }`
 *
 * A command named `<group>/<verb>` (`config/get`) is requested on `<base>/cmd/<group>/<verb>`, replied
 * on `<base>/cmd/<group>/<verb>/response`: the router also subscribes to `<base>/cmd/<group>/+`, which its
 * own replies (one level deeper) never match.
 *
 * Named "remote commands" so nobody confuses them with the CLI's commands (agent/commands/). Services
 * register the commands they answer (alarm, forecast-now, model-update, ...) when they start and are
 * released by owner when they stop. The payload is parsed here, once, for every command. Replies go
 * through the outbox, so the sender gets one even if the broker drops while the command runs; progress
 * of a long command goes straight to the broker at QoS 0 on `<base>/cmd/<name>/progress` (a lost
 * percentage does not matter).
 */
import type { Logger } from '../lib/log.js';
import type { OutboxMessage } from '../store/types.js';
import { COMMANDS, Topic, type CommandName, type CommandProgressPayload, type CommandResponsePayload } from './contract/topics.js';
import type { MessageBuilder } from './messages.js';
import type { MessageHandler } from './subscriptions.js';

/** A refused command: its message is the reply's `error`, its code the reply's `data.code`. */
export class CommandError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** More about the refusal (the role and version an update was about, ...), merged into `data`. */
    readonly data: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

export interface CommandRequest {
  command: CommandName;
  /** The payload's JSON object, `transaction` included. */
  body: Record<string, unknown>;
  transaction: string | number | undefined;
  /** Publishes progress (QoS 0, straight to the broker) while the command runs. */
  progress(data: Record<string, unknown>): void;
}

/** Answers one command: resolves with the reply's `data`, throws (preferably a CommandError) to refuse. */
export type CommandHandler = (request: CommandRequest) => Promise<Record<string, unknown>>;

/** The part of the MQTT relay the router uses. */
export interface CommandTransport {
  readonly baseTopic: string;
  subscribe(topicFilter: string, handler: MessageHandler): () => void;
  publishDirect(topic: string, payload: string | Buffer, options?: { qos?: 0 | 1; retain?: boolean }): Promise<void>;
}

export interface RemoteCommandsDeps {
  transport: CommandTransport;
  outbox: { enqueue(messages: OutboxMessage[]): boolean };
  messages: Pick<MessageBuilder, 'commandResponse' | 'commandProgress'>;
  logger: Logger;
}

/** A command payload larger than this is refused unread: no command needs more than a few hundred bytes. */
export const MAX_COMMAND_BYTES = 64 * 1024;
/** Values echoed back (transaction, names in error messages) are cut to this many characters. */
export const MAX_ECHO_CHARS = 128;
/** A reply's `error` is cut to this many characters (it may quote what the request sent). */
const MAX_ERROR_CHARS = 1024;

export class RemoteCommands {
  private readonly handlers = new Map<CommandName, { owner: object; handler: CommandHandler }>();
  private unsubscribe: (() => void)[] | null = null;

  constructor(private readonly deps: RemoteCommandsDeps) {}

  /** Subscribes to `<base>/cmd/+` and each group's `<base>/cmd/<group>/+`; commands registered before or after are served. */
  start(): void {
    if (this.unsubscribe) return;
    const { transport } = this.deps;
    this.unsubscribe = commandFilters().map((filter) => transport.subscribe(`${transport.baseTopic}/${filter}`, (topic, payload) => this.receive(topic, payload)));
  }

  stop(): void {
    for (const unsubscribe of this.unsubscribe ?? []) unsubscribe();
    this.unsubscribe = null;
    this.handlers.clear();
  }

  /** `owner` answers `command` from now on (a second owner for the same command is a programming error). */
  register(owner: object, command: CommandName, handler: CommandHandler): void {
    const existing = this.handlers.get(command);
    if (existing && existing.owner !== owner) throw new Error(`the remote command ${command} already has a handler`);
    this.handlers.set(command, { owner, handler });
  }

  /** Releases every command `owner` registered (a service that stops). */
  release(owner: object): void {
    for (const [command, entry] of this.handlers) if (entry.owner === owner) this.handlers.delete(command);
  }

  /** Runs one request and queues its reply; never throws (a bad command must not reach the relay as an error). */
  async receive(topic: string, payload: Buffer): Promise<void> {
    const name = topic.slice(this.deps.transport.baseTopic.length + 1 + Topic.command('').length);
    if (name === '' || name.endsWith('/') || name.length > MAX_ECHO_CHARS) {
      // No command has such a name (`<base>/cmd/` matches `cmd/+` with an empty level), and a reply topic
      // with an empty or a 1 KB level would only be noise.
      this.deps.logger.warn({ command: echo(name) }, 'ignored a remote command with an empty name or one over 128 characters');
      return;
    }
    let transaction: string | number | undefined;
    let reply: Pick<CommandResponsePayload, 'status' | 'data' | 'error'>;
    try {
      const body = parseBody(payload);
      transaction = transactionOf(body);
      const command = commandName(name);
      const entry = this.handlers.get(command);
      if (!entry) throw new CommandError('unavailable', `the ${command} command is not available now (the feature that answers it is off or still starting)`);
      const progress = (data: Record<string, unknown>) => this.progress(command, transaction, data);
      reply = { status: 'ok', data: await entry.handler({ command, body, transaction, progress }) };
    } catch (err) {
      const refusal = err instanceof CommandError ? err : new CommandError('failed', (err as Error).message);
      reply = { status: 'error', error: echo(refusal.message, MAX_ERROR_CHARS), data: { code: refusal.code, ...refusal.data } };
    }
    const command = name;
    const level = reply.status === 'ok' ? 'info' : 'warn';
    this.deps.logger[level]({ command, transaction, status: reply.status, error: reply.error }, `remote command ${command}: ${reply.status}`);
    const message = this.deps.messages.commandResponse(command, { ...reply, ...(transaction === undefined ? {} : { transaction }) });
    if (!this.deps.outbox.enqueue([message])) this.deps.logger.error({ command }, 'could not queue the command reply');
  }

  private progress(command: CommandName, transaction: string | number | undefined, data: Record<string, unknown>): void {
    const fields: Omit<CommandProgressPayload, 'id' | 'ts' | 'command'> = { data, ...(transaction === undefined ? {} : { transaction }) };
    const { topic, payload } = this.deps.messages.commandProgress(command, fields);
    this.deps.transport.publishDirect(topic, payload, { qos: 0 }).catch((err: unknown) => this.deps.logger.debug({ err }, 'progress message not sent'));
  }
}

/** `cmd/+`, then `cmd/<group>/+` for each group of commands. */
export function commandFilters(): string[] {
  const groups = new Set(COMMANDS.filter((c) => c.includes('/')).map((c) => c.slice(0, c.indexOf('/'))));
  return [Topic.command('+'), ...[...groups].map((group) => Topic.command(`${group}/+`))];
}

function commandName(name: string): CommandName {
  if ((COMMANDS as readonly string[]).includes(name)) return name as CommandName;
  throw new CommandError('unknown_command', `unknown command ${JSON.stringify(echo(name))}: expected one of ${COMMANDS.join(', ')}`);
}

/**
 * The request's JSON object. An empty payload is `{}`, and a bare word is `{"action": word}`: what a
 * Home Assistant button or `mosquitto_pub -m test` sends (`cmd/alarm`).
 */
function parseBody(payload: Buffer): Record<string, unknown> {
  if (payload.length > MAX_COMMAND_BYTES) throw new CommandError('invalid_request', `the payload is ${payload.length} bytes, over the limit of ${MAX_COMMAND_BYTES}`);
  const text = payload.toString('utf8').trim();
  if (text === '') return {};
  if (/^[a-z][a-z_-]{0,31}$/.test(text)) return { action: text };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CommandError('invalid_request', `the payload is not valid JSON: ${echo((err as Error).message)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CommandError('invalid_request', 'the payload must be a JSON object');
  return value as Record<string, unknown>;
}

/** `transaction` is echoed as it came, a string (cut to MAX_ECHO_CHARS) or a finite number; anything else is ignored. */
function transactionOf(body: Record<string, unknown>): string | number | undefined {
  const value = body['transaction'];
  if (typeof value === 'string') return echo(value);
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** A value from the request, cut short for replies and logs (a 1 MB name must not become a 1 MB reply). */
export function echo(value: string, maxChars = MAX_ECHO_CHARS): string {
  return value.length <= maxChars ? value : `${value.slice(0, maxChars)}…`;
}
