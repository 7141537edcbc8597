/**
 * Property-based, bounded in time: random and malformed payloads on `<base>/cmd/<name>`, through the
 * router (agent/mqtt/remote-commands.ts) and every handler the daemon registers (alarm, forecast-now,
 * model-update, model-rollback), plus names no command has. Every request under 129 characters of name
 * gets exactly one reply that follows the published schema, short whatever was sent; every log line stays
 * short; nothing is installed (an update without a valid signature is refused before any download, so
 * nothing here touches the network) and the router never throws.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alarmCommand, forecastNowCommand } from '../../agent/daemon/command-handlers.js';
import { PayloadValidator } from '../../agent/mqtt/contract/schemas.js';
import { COMMANDS } from '../../agent/mqtt/contract/topics.js';
import { MessageBuilder } from '../../agent/mqtt/messages.js';
import { RemoteCommands } from '../../agent/mqtt/remote-commands.js';
import { ModelCommands } from '../../agent/ota/mqtt-commands.js';
import { ModelRegistry } from '../../agent/ota/registry.js';
import { ModelUpdater } from '../../agent/ota/updater.js';
import { generateSigningKeys, loadPublicKey } from '../../agent/ota/verify.js';
import { EventBus } from '../../agent/runtime/event-bus.js';
import type { OutboxMessage } from '../../agent/store/types.js';
import { AlarmPolicy } from '../../agent/vision/alarm.js';
import { FakeAlarmOutput } from '../fakes/alarm-output.js';
import { captureLog } from '../helpers/log-capture.js';
import { testLoaders } from '../ota/harness.js';

const BASE = 'edge/pi';
/** No reply or log line needs more: echoed values are cut to 128 characters, errors to 1024. */
const MAX_REPLY_CHARS = 4096;
const MAX_LOG_LINE_CHARS = 4096;
const BUDGET = { interruptAfterTimeLimit: 30_000, markInterruptAsFailure: false } as const;

const contract = new PayloadValidator();
const log = captureLog('info');
const queued: OutboxMessage[] = [];
const outbox = { enqueue: (messages: OutboxMessage[]) => (queued.push(...messages), true) };
const messages = new MessageBuilder(BASE, 'pi');
const output = new FakeAlarmOutput();
let dataDir: string;
let registry: ModelRegistry;
let updater: ModelUpdater;
let alarm: AlarmPolicy;
let router: RemoteCommands;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'commands-fuzz-'));
  const logger = log.logger;
  registry = new ModelRegistry({ dataDir, keepVersions: 2, logger });
  updater = new ModelUpdater({
    registry,
    loaders: testLoaders,
    fetch: { maxBytes: 1024 * 1024, connectTimeoutMs: 500, readTimeoutMs: 500, deadlineMs: 1_000 },
    publicKey: loadPublicKey(generateSigningKeys().publicKey),
    logger,
  });
  router = new RemoteCommands({
    transport: { baseTopic: BASE, subscribe: () => () => undefined, publishDirect: async () => undefined },
    outbox,
    messages,
    logger,
  });
  alarm = new AlarmPolicy({ hold_s: 30 }, { output, store: outbox, messages, bus: new EventBus(logger), logger });
  await alarm.start();
  router.register(alarm, 'alarm', alarmCommand(alarm, { hold_s: 30 }));
  router.register(updater, 'forecast-now', forecastNowCommand({ forecastNow: async () => ({ ok: false, reason: 'no valid reading since the agent started' }) }));
  new ModelCommands({ updater, registry, commands: router, onActivated: () => undefined, announced: () => null }).start();
});

afterAll(async () => {
  await alarm?.stop();
  await updater?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Sends one request and checks what came back and what was logged. */
async function check(name: string, payload: Buffer): Promise<void> {
  const replies = queued.length;
  const lines = log.lines.length;
  await router.receive(`${BASE}/cmd/${name}`, payload);
  const added = queued.slice(replies).filter((m) => m.topic.includes('/cmd/'));
  if (name === '' || name.length > 128) {
    expect(added).toEqual([]);
  } else {
    expect(added.map((m) => m.topic)).toEqual([`${BASE}/cmd/${name}/response`]);
    const reply = added[0]!;
    const text = reply.payload.toString();
    expect(text.length, text.slice(0, 300)).toBeLessThan(MAX_REPLY_CHARS);
    expect(contract.problems(reply.topic.slice(BASE.length + 1), reply.payload), text.slice(0, 300)).toEqual([]);
    const body = JSON.parse(text) as { status: string; data: { code?: unknown } };
    if (body.status === 'error') expect(typeof body.data.code === 'string' && body.data.code !== '', text.slice(0, 300)).toBe(true);
  }
  for (const line of log.lines.slice(lines)) expect(JSON.stringify(line).length, line.msg.slice(0, 200)).toBeLessThan(MAX_LOG_LINE_CHARS);
  log.lines.length = 0;
}

/** Values of every JSON kind, now and then far longer than anything a command needs. */
const anyValue = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.nat({ max: 70_000 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.constantFrom('intruder', 'forecast', 'active', '../../etc', 'test', 'silence', 'off', 'file:///dev/zero', 'file:///proc/self/environ', 'https://127.0.0.1:1/m.onnx', 'a'.repeat(64)) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 86_401, 1e308, Number.MAX_SAFE_INTEGER, 0.5) },
);
/** A body with some of the fields the commands read, each any value. */
const fieldsBody = fc
  .record(
    {
      role: anyValue,
      version: anyValue,
      url: anyValue,
      sha256: anyValue,
      signature: anyValue,
      name: anyValue,
      operation: anyValue,
      action: anyValue,
      duration_s: anyValue,
      transaction: anyValue,
    },
    { requiredKeys: [] },
  )
  .map((body) => Buffer.from(JSON.stringify(body)));
const anyPayload = fc.oneof(
  { weight: 4, arbitrary: fieldsBody },
  { weight: 2, arbitrary: fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value))) },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z][a-z_-]{0,31}$/).map((word) => Buffer.from(word)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2000 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 1, arbitrary: fc.nat({ max: 90_000 }).map((n) => Buffer.from(`{"action":"${'y'.repeat(n)}"}`)) },
);
/** What `<base>/cmd/+` can deliver: one topic level (no `/`, no wildcards, no NUL), empty included. */
const topicLevel = (minLength: number, maxLength: number) => fc.string({ minLength, maxLength }).map((s) => s.replace(/[/+#]/g, '_').split(String.fromCharCode(0)).join('_'));
const anyName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...COMMANDS) },
  { weight: 1, arbitrary: topicLevel(0, 40) },
  { weight: 1, arbitrary: topicLevel(100, 400) },
);

describe('remote commands under random payloads', () => {
  it('answer every request once, by the schema, briefly, and install nothing', { timeout: 120_000 }, async () => {
    await fc.assert(fc.asyncProperty(anyName, anyPayload, check), { numRuns: 3000, ...BUDGET });
    expect(await registry.list()).toEqual([]);
    expect(output.levels.every((level) => typeof level === 'boolean')).toBe(true);
  });

  it('refuse every field of a model update that is the wrong type or out of bounds, for every field', { timeout: 120_000 }, async () => {
    const update = fc.record({ role: anyValue, version: anyValue, url: anyValue, sha256: anyValue, signature: anyValue, name: anyValue, transaction: anyValue });
    await fc.assert(
      fc.asyncProperty(update, async (body) => {
        const before = queued.length;
        await check('model-update', Buffer.from(JSON.stringify(body)));
        const reply = JSON.parse(queued.slice(before).at(-1)!.payload.toString()) as { status: string };
        expect(reply.status).toBe('error');
      }),
      { numRuns: 1500, ...BUDGET },
    );
  });
});
