import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../agent/lib/log.js';
import { PayloadValidator } from '../../agent/mqtt/contract/schemas.js';

const contract = new PayloadValidator();
import type { CommandResponsePayload } from '../../agent/mqtt/contract/topics.js';
import { MessageBuilder } from '../../agent/mqtt/messages.js';
import { CommandError, MAX_COMMAND_BYTES, RemoteCommands, type CommandHandler } from '../../agent/mqtt/remote-commands.js';
import type { MessageHandler } from '../../agent/mqtt/subscriptions.js';
import type { OutboxMessage } from '../../agent/store/types.js';

const BASE = 'edge/pi';

/** The router over a transport that records subscriptions and direct publishes, and an outbox that keeps what it is given. */
function router() {
  const subscriptions = new Map<string, MessageHandler>();
  const direct: { topic: string; payload: string; qos: number | undefined }[] = [];
  const queued: OutboxMessage[] = [];
  const commands = new RemoteCommands({
    transport: {
      baseTopic: BASE,
      subscribe: (filter, handler) => {
        subscriptions.set(filter, handler);
        return () => subscriptions.delete(filter);
      },
      publishDirect: async (topic, payload, options) => void direct.push({ topic, payload: payload.toString(), qos: options?.qos }),
    },
    outbox: { enqueue: (messages) => (queued.push(...messages), true) },
    messages: new MessageBuilder(BASE, 'pi'),
    logger: silentLogger(),
  });
  const send = async (name: string, payload: string | Buffer): Promise<CommandResponsePayload> => {
    const before = queued.length;
    await commands.receive(`${BASE}/cmd/${name}`, Buffer.isBuffer(payload) ? payload : Buffer.from(payload));
    expect(queued).toHaveLength(before + 1);
    const reply = queued.at(-1)!;
    expect(contract.problems(reply.topic.slice(BASE.length + 1), reply.payload)).toEqual([]);
    expect(reply.topic).toBe(`${BASE}/cmd/${name}/response`);
    return JSON.parse(reply.payload as string) as CommandResponsePayload;
  };
  return { commands, subscriptions, direct, queued, send };
}

const echoBody: CommandHandler = async ({ body }) => ({ got: body });

describe('RemoteCommands', () => {
  it('subscribes to <base>/cmd/+ and <base>/cmd/config/+ once and unsubscribes on stop', () => {
    const r = router();
    r.commands.start();
    r.commands.start();
    expect([...r.subscriptions.keys()]).toEqual([`${BASE}/cmd/+`, `${BASE}/cmd/config/+`]);
    r.commands.stop();
    expect(r.subscriptions.size).toBe(0);
  });

  it('answers ok with the handler data and echoes the transaction', async () => {
    const r = router();
    r.commands.register({}, 'alarm', echoBody);
    expect(await r.send('alarm', '{"action":"test","transaction":"t-1"}')).toMatchObject({
      command: 'alarm',
      status: 'ok',
      data: { got: { action: 'test', transaction: 't-1' } },
      transaction: 't-1',
    });
    const numbered = await r.send('alarm', '{"transaction":7}');
    expect(numbered.transaction).toBe(7);
    expect(await r.send('alarm', '{"transaction":{"nested":true}}')).not.toHaveProperty('transaction');
  });

  it('serves a command of a group on <base>/cmd/<group>/<verb> and replies one level below it', async () => {
    const r = router();
    r.commands.register({}, 'config/get', echoBody);
    expect(await r.send('config/get', '{"transaction":"g"}')).toMatchObject({ command: 'config/get', status: 'ok', transaction: 'g' });
    // `<base>/cmd/config/` (an empty verb) matches cmd/config/+ but names no command: ignored, no reply to `cmd/config//response`.
    const before = r.queued.length;
    await r.commands.receive(`${BASE}/cmd/config/`, Buffer.from('{}'));
    expect(r.queued).toHaveLength(before);
  });

  it('reads an empty payload as {} and a bare word as an action', async () => {
    const r = router();
    r.commands.register({}, 'alarm', echoBody);
    expect((await r.send('alarm', '')).data).toEqual({ got: {} });
    expect((await r.send('alarm', ' silence\n')).data).toEqual({ got: { action: 'silence' } });
  });

  it('refuses what it cannot read, naming why, with a stable code', async () => {
    const r = router();
    r.commands.register({}, 'alarm', echoBody);
    expect(await r.send('alarm', '{"action":')).toMatchObject({ status: 'error', data: { code: 'invalid_request' }, error: expect.stringMatching(/^the payload is not valid JSON/) });
    expect(await r.send('alarm', '[1,2]')).toMatchObject({ status: 'error', data: { code: 'invalid_request' }, error: 'the payload must be a JSON object' });
    expect(await r.send('alarm', 'Not A Word!')).toMatchObject({ status: 'error', data: { code: 'invalid_request' } });
    const huge = await r.send('alarm', Buffer.alloc(MAX_COMMAND_BYTES + 1, 'x'));
    expect(huge).toMatchObject({ status: 'error', data: { code: 'invalid_request' }, error: `the payload is ${MAX_COMMAND_BYTES + 1} bytes, over the limit of ${MAX_COMMAND_BYTES}` });
  });

  it('tells an unknown command from a known one whose feature is off', async () => {
    const r = router();
    expect(await r.send('reboot', '{}')).toMatchObject({ status: 'error', data: { code: 'unknown_command' }, error: expect.stringContaining('expected one of model-update, model-install, model-rollback, alarm, forecast-now, config/get, config/set') });
    expect(await r.send('forecast-now', '{}')).toMatchObject({ status: 'error', data: { code: 'unavailable' } });
  });

  it('passes a CommandError code and data through, and calls anything else a failure', async () => {
    const r = router();
    r.commands.register({}, 'model-update', async () => {
      throw new CommandError('checksum_mismatch', 'sha256 mismatch', { role: 'intruder', version: '2' });
    });
    r.commands.register({}, 'forecast-now', async () => {
      throw new Error('the sensor fell off');
    });
    expect(await r.send('model-update', '{}')).toMatchObject({ status: 'error', error: 'sha256 mismatch', data: { code: 'checksum_mismatch', role: 'intruder', version: '2' } });
    expect(await r.send('forecast-now', '{}')).toMatchObject({ status: 'error', error: 'the sensor fell off', data: { code: 'failed' } });
  });

  it('cuts echoed values short: a huge transaction never becomes a huge reply, a huge command name gets none', async () => {
    const r = router();
    r.commands.register({}, 'alarm', async () => ({}));
    const reply = await r.send('alarm', JSON.stringify({ transaction: 'x'.repeat(50_000) }));
    expect(reply.transaction).toBe(`${'x'.repeat(128)}…`);
    const unknown = await r.send('y'.repeat(128), '{}');
    expect(unknown.error!.length).toBeLessThan(400);
    const queued = r.queued.length;
    await r.commands.receive(`${BASE}/cmd/${'y'.repeat(129)}`, Buffer.from('{}'));
    expect(r.queued).toHaveLength(queued);
  });

  it('ignores an empty command name (`<base>/cmd/` matches cmd/+): its reply would break the schema', async () => {
    const r = router();
    await r.commands.receive(`${BASE}/cmd/`, Buffer.from('{}'));
    expect(r.queued).toEqual([]);
  });

  it('publishes progress at QoS 0 on the progress topic, with the transaction', async () => {
    const r = router();
    r.commands.register({}, 'model-update', async ({ progress }) => {
      progress({ stage: 'downloading' });
      return {};
    });
    await r.send('model-update', '{"transaction":"t-9"}');
    await expect.poll(() => r.direct).toHaveLength(1);
    const [message] = r.direct;
    expect(message).toMatchObject({ topic: `${BASE}/cmd/model-update/progress`, qos: 0 });
    expect(JSON.parse(message!.payload)).toMatchObject({ command: 'model-update', data: { stage: 'downloading' }, transaction: 't-9' });
    expect(contract.problems('cmd/model-update/progress', message!.payload)).toEqual([]);
  });

  it('releases commands by owner, and refuses a second owner of the same command', async () => {
    const r = router();
    const alarm = {};
    r.commands.register(alarm, 'alarm', echoBody);
    expect(() => r.commands.register({}, 'alarm', echoBody)).toThrow('the remote command alarm already has a handler');
    r.commands.release(alarm);
    expect(await r.send('alarm', '{}')).toMatchObject({ status: 'error', data: { code: 'unavailable' } });
  });
});
