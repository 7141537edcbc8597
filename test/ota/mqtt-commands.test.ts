import { connect, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PayloadValidator } from '../../agent/mqtt/contract/schemas.js';

const contract = new PayloadValidator();
import type { OtaConfig } from '../../agent/config/types.js';
import type { CommandProgressPayload, CommandResponsePayload, ModelInfoPayload } from '../../agent/mqtt/contract/topics.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { MqttSubscriber } from '../helpers/mqtt-subscriber.js';
import { TestDevice } from './device.js';
import { intruderModel, OtaHarness, sha256 } from './harness.js';

const goodSha = sha256(intruderModel);

let broker: Mosquitto;
let h: OtaHarness;
let device: TestDevice;
let sub: MqttSubscriber;
let commander: MqttClient;

beforeAll(async () => {
  broker = await Mosquitto.start();
  h = await OtaHarness.start();
  device = await TestDevice.start(broker.url, h);
  sub = await MqttSubscriber.connect(broker.url, [`${device.baseTopic}/cmd/+/response`, `${device.baseTopic}/cmd/+/progress`, `${device.baseTopic}/models/+`]);
  commander = connect(broker.url, { clientId: 'ota-test-commander' });
  await new Promise((resolve) => commander.once('connect', resolve));
});

afterAll(async () => {
  await commander?.endAsync(true);
  await sub?.close();
  await device?.stop();
  await h?.close();
  await broker?.dispose();
});

const updateResponses = () => sub.json<CommandResponsePayload>(`${device.baseTopic}/cmd/model-update/response`);
const rollbackResponses = () => sub.json<CommandResponsePayload>(`${device.baseTopic}/cmd/model-rollback/response`);
const updateProgress = () => sub.json<CommandProgressPayload>(`${device.baseTopic}/cmd/model-update/progress`);

/** An update's body with its signature, when it has the fields that are signed (the device requires one). */
function signed(body: Record<string, unknown>): Record<string, unknown> {
  const { role, version, sha256: sha } = body;
  if (typeof role !== 'string' || typeof version !== 'string' || typeof sha !== 'string' || 'signature' in body) return body;
  return { ...body, signature: h.sign({ role, version, sha256: sha }) };
}

/** Sends a command (an update signed) and waits for its reply carrying `transaction` (the newest reply when null). */
async function command(name: 'model-update' | 'model-rollback', body: string | Record<string, unknown>, transaction: string | number | null) {
  const replies = () => (name === 'model-update' ? updateResponses() : rollbackResponses());
  const seen = replies().length;
  const seenProgress = updateProgress().length;
  await commander.publishAsync(`${device.baseTopic}/cmd/${name}`, typeof body === 'string' ? body : JSON.stringify(signed(body)), { qos: 1 });
  const mine = (r: { transaction?: string | number }) => transaction === null || r.transaction === transaction;
  await sub.waitFor(() => replies().slice(seen).some(mine), 20_000, `the ${name} reply (transaction ${transaction})`);
  return { final: replies().slice(seen).find(mine)!, progress: updateProgress().slice(seenProgress).filter(mine) };
}

describe('model updates over MQTT', () => {
  it('reports progress on the progress topic and the result in the reply envelope, echoing transaction, and retains the model info', async () => {
    const url = h.server.route('/v1/yolov8n-int8.onnx', { kind: 'file', body: intruderModel, chunkSize: 16 * 1024 });
    const { final, progress } = await command('model-update', { role: 'intruder', version: '1', url, sha256: goodSha, transaction: 'tx-1' }, 'tx-1');

    expect(progress.every((p) => p.data['role'] === 'intruder' && p.data['version'] === '1' && p.transaction === 'tx-1' && p.command === 'model-update')).toBe(true);
    expect(progress[0]!.data).toMatchObject({ stage: 'downloading' });
    expect(progress[0]!.data).not.toHaveProperty('progress');
    const percents = progress.map((p) => p.data['progress'] as { percent: number } | undefined).filter((p) => p !== undefined).map((p) => p.percent);
    expect(percents.at(-1)).toBe(100);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.length).toBeLessThanOrEqual(12); // every 10 %, not every 16 KB chunk (214 of them)
    expect(progress.map((p) => p.data['stage'])).toEqual(expect.arrayContaining(['verifying', 'installing', 'validating', 'activating']));
    expect(final).toMatchObject({
      status: 'ok',
      command: 'model-update',
      transaction: 'tx-1',
      data: { role: 'intruder', version: '1', model: { role: 'intruder', name: 'yolov8n-int8', version: '1', sha256: goodSha } },
    });
    expect(Date.parse(final.ts)).toBeGreaterThan(0);
    expect(h.intruderSlot.current()?.info.version).toBe('1');

    // A client that subscribes later still learns what is active.
    const late = await MqttSubscriber.connect(broker.url, `${device.baseTopic}/models/intruder`);
    try {
      await late.waitFor((m) => m.length > 0, 5_000, 'the retained model info');
      expect(late.messages[0]!.retain).toBe(true);
      expect(late.json<ModelInfoPayload>(`${device.baseTopic}/models/intruder`)[0]).toMatchObject({ role: 'intruder', version: '1', sha256: goodSha });
    } finally {
      await late.close();
    }
  });

  it('answers a broken command with an error naming what is wrong, and keeps the model', async () => {
    const notJson = await command('model-update', '{not json', null);
    expect(notJson.final).toMatchObject({ status: 'error', data: { code: 'invalid_request' } });
    expect(notJson.final.error).toMatch(/^the payload is not valid JSON/);

    const missing = await command('model-update', { role: 'intruder', version: '2', url: h.server.url('/x.onnx'), transaction: 'tx-missing' }, 'tx-missing');
    expect(missing.final).toMatchObject({ status: 'error', data: { code: 'invalid_request', role: 'intruder', version: '2' }, error: "'sha256' is required and must be a non-empty string" });

    const url = h.server.route('/v2.onnx', { kind: 'file', body: intruderModel });
    const bad = await command('model-update', { role: 'intruder', version: '2', url, sha256: 'f'.repeat(64), transaction: 'tx-bad' }, 'tx-bad');
    expect(bad.final).toMatchObject({ status: 'error', data: { code: 'checksum_mismatch', role: 'intruder', version: '2' } });
    expect(bad.final.error).toMatch(/^sha256 mismatch: expected f{64}/);

    // The pointer file's own name: installing it would leave the role unable to activate ever again.
    const pointer = await command('model-update', { role: 'intruder', version: 'active', url, sha256: goodSha, transaction: 'tx-active' }, 'tx-active');
    expect(pointer.final).toMatchObject({ status: 'error', data: { code: 'invalid_request', role: 'intruder', version: 'active' } });
    expect(pointer.final.error).toMatch(/^invalid version "active": 'active' .* is the registry's own pointer file$/);

    // Values quoted in the error are cut short: 60 KB in, a few hundred characters out.
    const huge = await command('model-update', { role: 'x'.repeat(60_000), version: '2', url, sha256: goodSha, transaction: 'tx-huge' }, 'tx-huge');
    expect(huge.final).toMatchObject({ status: 'error', data: { code: 'invalid_request' } });
    expect(huge.final.error).toMatch(/^unknown model role "x{63}… \(60002 characters\) \(expected intruder or forecast\)$/);
    expect(JSON.stringify(huge.final).length).toBeLessThan(1024);
    expect(await h.probeIntruder()).toEqual({ version: '1', classes: ['dog'] });
  });

  it('rolls back on model-rollback, naming the version it went back to', async () => {
    const url = h.server.route('/v2/yolov8n-int8.onnx', { kind: 'file', body: intruderModel });
    expect((await command('model-update', { role: 'intruder', version: '2', url, sha256: goodSha, transaction: 'tx-2' }, 'tx-2')).final.status).toBe('ok');
    expect(h.intruderSlot.current()?.info.version).toBe('2');

    const { final } = await command('model-rollback', { role: 'intruder', transaction: 42 }, 42);
    expect(final).toMatchObject({ status: 'ok', command: 'model-rollback', transaction: 42, data: { role: 'intruder', version: '1', model: { version: '1' } } });
    expect(h.intruderSlot.current()?.info.version).toBe('1');
    const infos = sub.json<ModelInfoPayload>(`${device.baseTopic}/models/intruder`);
    expect(infos.at(-1)).toMatchObject({ version: '1' });

    const nothing = await command('model-rollback', { role: 'intruder', transaction: 'tx-none' }, 'tx-none');
    expect(nothing.final).toMatchObject({ status: 'error', data: { role: 'intruder', version: null }, error: 'no previous intruder version to roll back to' });
  });

  it('publishes the serving model info again when the service restarts', async () => {
    const before = sub.on(`${device.baseTopic}/models/intruder`).length;
    await device.service.stop();
    device = await TestDevice.start(broker.url, h);
    await sub.waitFor(() => sub.on(`${device.baseTopic}/models/intruder`).length > before, 5_000, 'the model info after a restart');
    const active = await h.registry.active('intruder');
    expect(sub.json<ModelInfoPayload>(`${device.baseTopic}/models/intruder`).at(-1)).toEqual({
      role: 'intruder',
      name: 'yolov8n-int8',
      version: '1',
      sha256: goodSha,
      activated_at: active?.activated_at,
    });
  });

  it('refuses unsigned updates without ota.public_key (the default), unless ota.allow_unsigned_remote_updates says otherwise', async () => {
    const url = h.server.route('/unsigned/yolov8n-int8.onnx', { kind: 'file', body: intruderModel });
    const body = { role: 'intruder', version: '9', url, sha256: goodSha };
    const restart = async (ota: Partial<OtaConfig>) => {
      await device.stop();
      device = await TestDevice.start(broker.url, h, { ota });
    };
    try {
      await restart({ public_key: null });
      const downloads = h.server.requests.length;
      for (const [transaction, payload] of [['tx-unsigned', body], ['tx-signed-no-key', signed(body)]] as const) {
        const { final } = await command('model-update', JSON.stringify({ ...payload, transaction }), transaction);
        expect(final).toMatchObject({ status: 'error', data: { code: 'signature_missing', role: 'intruder', version: '9' } });
        expect(final.error).toMatch(/^remote model updates must be signed and no ota\.public_key is set to check them/);
      }
      expect(h.server.requests.length, 'nothing is downloaded').toBe(downloads);
      expect(await h.registry.get('intruder', '9')).toBeNull();

      await restart({ public_key: null, allow_unsigned_remote_updates: true });
      const allowed = await command('model-update', JSON.stringify({ ...body, transaction: 'tx-allowed' }), 'tx-allowed');
      expect(allowed.final).toMatchObject({ status: 'ok', data: { role: 'intruder', version: '9' } });
    } finally {
      await restart({});
    }
  });

  it('sends replies and progress that all follow the published schema', () => {
    const topics = ['cmd/model-update/response', 'cmd/model-rollback/response', 'cmd/model-update/progress'];
    const messages = topics.flatMap((suffix) => sub.on(`${device.baseTopic}/${suffix}`).map((m) => ({ suffix, payload: m.payload })));
    expect(messages.length).toBeGreaterThan(20);
    for (const { suffix, payload } of messages) expect({ payload: payload.toString(), problems: contract.problems(suffix, payload) }).toEqual({ payload: payload.toString(), problems: [] });
  });
});
