/** What stands in front of the handlers: API keys, rate limits, the body limit, the inference queue, /health. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelSlot } from '../../agent/runtime/model-slot.js';
import type { Forecaster, IntruderDetector } from '../../models/types.js';
import { fixture } from '../helpers/fixtures.js';
import { flatImage } from '../../scripts/bench/layouts.js';
import { buildTestApp, KEY, loadModels, OTHER_KEY, window60, type Models } from './harness.js';

const bus = readFileSync(fixture('images/bus.jpg'));
let models: Models;
beforeAll(async () => {
  models = await loadModels();
});
afterAll(async () => models.close());

describe('API keys', () => {
  it('answers 403 without a valid key, in each contract\'s own error shape', async () => {
    const { app } = await buildTestApp(models);
    const v1 = await app.inject({ method: 'POST', url: '/v1/temperature/forecast', payload: { values: window60() } });
    expect(v1.statusCode).toBe(403);
    expect(v1.json()).toEqual({ statusCode: 403, error: 'Forbidden', message: 'missing API key: send a configured key in the x-api-key header' });
    const compat = await app.inject({ method: 'POST', url: '/compat/temperature', headers: { 'x-api-key': 'wrong-key-000000' }, payload: { temperaturas: window60() } });
    expect(compat.statusCode).toBe(403);
    expect(compat.json()).toEqual({ message: 'Forbidden' });
    for (const url of ['/metrics', '/api/status', '/api/snapshot', '/no/such/route']) {
      expect((await app.inject({ url })).statusCode, url).toBe(403);
    }
    await app.close();
  });

  it('lets /health and the status page files through without a key, and takes a Bearer key for /metrics', async () => {
    const { app } = await buildTestApp(models);
    for (const url of ['/health', '/', '/status/app.js', '/status/style.css']) expect((await app.inject({ url })).statusCode, url).toBe(200);
    expect((await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${OTHER_KEY}` } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/metrics', headers: { authorization: 'Bearer nope-nope-nope' } })).statusCode).toBe(403);
    await app.close();
  });

  it('needs no key when none is configured', async () => {
    const { app } = await buildTestApp(models, { http: { api_keys: [] } });
    const res = await app.inject({ method: 'POST', url: '/compat/temperature', payload: { temperaturas: window60() } });
    expect(res.statusCode).toBe(200);
    await app.close();
  });
});

describe('rate limit (10/s, burst 10, per key)', () => {
  it('answers 429 with X-RateLimit-Limit, X-RateLimit-Remaining and Retry-After past the burst', async () => {
    let now = 1_700_000_000_000;
    const { app } = await buildTestApp(models, { now: () => now });
    const call = (key: string, url = '/compat/temperature') =>
      app.inject({ method: 'POST', url, headers: { 'x-api-key': key }, payload: { temperaturas: [1] } });
    const remaining: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await call(KEY);
      expect(res.statusCode).toBe(400);
      expect(res.headers['x-ratelimit-limit']).toBe('10');
      remaining.push(String(res.headers['x-ratelimit-remaining']));
    }
    expect(remaining).toEqual(['9', '8', '7', '6', '5', '4', '3', '2', '1', '0']);

    const limited = await call(KEY);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['x-ratelimit-limit']).toBe('10');
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    expect(limited.headers['retry-after']).toBe('1');
    expect(limited.json()).toEqual({ error: 'Too Many Requests' });
    const limitedV1 = await call(KEY, '/v1/temperature/forecast');
    expect(limitedV1.statusCode).toBe(429);
    expect(limitedV1.json()).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });

    expect((await call(OTHER_KEY)).statusCode).toBe(400);
    now += 100;
    expect((await call(KEY)).statusCode).toBe(400);
    expect((await call(KEY)).statusCode).toBe(429);
    const metrics = await app.inject({ url: '/metrics', headers: { 'x-api-key': OTHER_KEY } });
    expect(metrics.body).toMatch(/^edge_agent_http_refused_total\{reason="rate_limited"\} 3$/m);
    await app.close();
  });

  it('is off when rate_limit.enabled is false', async () => {
    const { app } = await buildTestApp(models, { http: { rate_limit: { enabled: false, per_second: 10, burst: 10 } } });
    const statuses = new Set<number>();
    for (let i = 0; i < 30; i++) statuses.add((await app.inject({ url: '/metrics', headers: { 'x-api-key': KEY } })).statusCode);
    expect([...statuses]).toEqual([200]);
    await app.close();
  });
});

describe('body limit', () => {
  it('answers 413 for a body over 6 MB, naming the limit', async () => {
    const { app } = await buildTestApp(models);
    const tooBig = Buffer.alloc(6 * 1024 * 1024 + 1, 0x41);
    const v1 = await app.inject({ method: 'POST', url: '/v1/intruders', headers: { 'x-api-key': KEY, 'content-type': 'image/jpeg' }, payload: tooBig });
    expect(v1.statusCode).toBe(413);
    expect(v1.json()).toEqual({ statusCode: 413, error: 'Payload Too Large', message: 'the request body is larger than the limit (6291456 bytes)' });
    const compat = await app.inject({ method: 'POST', url: '/compat/intruders', headers: { 'x-api-key': KEY, 'content-type': 'application/json' }, payload: tooBig });
    expect(compat.statusCode).toBe(413);
    expect(compat.json()).toEqual({ error: 'the request body is larger than the limit (6291456 bytes)' });
    await app.close();
  });
});

describe('inference queue', () => {
  it('answers 503 with Retry-After once max_queue requests wait, instead of queueing without bound', async () => {
    const { app } = await buildTestApp(models, { http: { max_queue: 1, rate_limit: { enabled: false, per_second: 10, burst: 10 } } });
    const send = (url: string, payload: object) => app.inject({ method: 'POST', url, headers: { 'x-api-key': KEY }, payload });
    const image = bus.toString('base64');
    const answers = await Promise.all([
      ...Array.from({ length: 4 }, () => send('/v1/intruders', { image })),
      send('/compat/intruders', { image }),
    ]);
    const statuses = answers.map((a) => a.statusCode);
    // Two run (the detector decodes one while it infers the other), one waits, the rest are refused at once.
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    expect(statuses.filter((s) => s === 503)).toHaveLength(2);
    for (const refused of answers.filter((a) => a.statusCode === 503)) {
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    const compat = answers[4]!;
    expect(compat.statusCode).toBe(503);
    expect(compat.json().error).toMatch(/^the detection queue is full: retry in \d+ s$/);
    await app.close();
  });

  it('refuses before parsing the body once the queue is full', async () => {
    const { app } = await buildTestApp(models, { http: { max_queue: 1, rate_limit: { enabled: false, per_second: 10, burst: 10 } } });
    const detect = () => app.inject({ method: 'POST', url: '/v1/intruders', headers: { 'x-api-key': KEY, 'content-type': 'image/jpeg' }, payload: bus });
    const accepted = [detect(), detect(), detect()];
    const depth = async () => {
      const text = (await app.inject({ url: '/metrics', headers: { 'x-api-key': KEY } })).body;
      return Number(/^edge_agent_http_queue_depth\{queue="detection"\} (\d+)$/m.exec(text)?.[1]);
    };
    await expect.poll(depth, { interval: 5 }).toBeGreaterThanOrEqual(1);
    const refused = await detect();
    expect(refused.statusCode).toBe(503);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await Promise.all(accepted)).map((r) => r.statusCode)).toEqual([200, 200, 200]);
    await app.close();
  });

  it('answers 503 when the model is not loaded (a failed update left the slot empty)', async () => {
    const empty = { detector: new ModelSlot<IntruderDetector>(), forecaster: new ModelSlot<Forecaster>() };
    const { app } = await buildTestApp(empty);
    const res = await app.inject({ method: 'POST', url: '/v1/intruders', headers: { 'x-api-key': KEY, 'content-type': 'image/jpeg' }, payload: bus });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('30');
    expect(res.json().message).toBe('the intruder model is not loaded');
    const health = (await app.inject({ url: '/health' })).json();
    expect(health.models).toEqual({ intruder: null, forecast: null });
    await app.close();
  });
});

describe('decode cost', () => {
  it('refuses images that must be decoded whole above the decode budget at once, without taking queue slots', async () => {
    const { app } = await buildTestApp(models, { http: { max_queue: 1, rate_limit: { enabled: false, per_second: 10, burst: 10 } } });
    const [interlaced, progressive] = await Promise.all([flatImage('interlaced-png', 4500, 4500), flatImage('progressive-jpeg', 4500, 4500)]);
    const post = (url: string, type: string, payload: Buffer | object) => app.inject({ method: 'POST', url, headers: { 'x-api-key': KEY, 'content-type': type }, payload });
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        i % 3 === 0
          ? post('/v1/intruders', 'image/png', interlaced)
          : i % 3 === 1
            ? post('/v1/intruders', 'image/jpeg', progressive)
            : post('/compat/intruders', 'application/json', { image: progressive.toString('base64') }),
      ),
    );
    // 30 at once with one queue slot: none of them reached the queue (a 503 would say so).
    expect(answers.map((a) => a.statusCode)).toEqual(new Array(30).fill(400));
    expect(answers[0]!.json().message).toMatch(/^decoding this 4500x4500 interlaced PNG \(decoded whole\) takes about \d+ MB, over the 64 MB decode budget/);
    expect(answers[2]!.json().error).toMatch(/^decoding this 4500x4500 progressive JPEG \(decoded whole\)/);
    expect((await post('/v1/intruders', 'image/jpeg', bus)).statusCode).toBe(200);
    await app.close();
  });
});

describe('content types', () => {
  it('answers 415 on /v1 for a body that is neither an image nor JSON', async () => {
    const { app } = await buildTestApp(models);
    const res = await app.inject({ method: 'POST', url: '/v1/intruders', headers: { 'x-api-key': KEY, 'content-type': 'text/plain' }, payload: 'hello' });
    expect(res.statusCode).toBe(415);
    expect(res.json().message).toBe('unsupported content type text/plain: send image/jpeg, image/png, image/webp or application/json');
    await app.close();
  });
});

describe('GET /health', () => {
  it('is 200 with per-component state while nothing is down', async () => {
    const { app } = await buildTestApp(models, {
      health: () => ({ components: { camera: { state: 'ok', fps: 5 }, mqtt: { state: 'degraded', detail: 'reconnecting' }, http: { state: 'disabled' } } }),
    });
    const res = await app.inject({ url: '/health' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ status: 'degraded', device: 'test-pi', components: { camera: { state: 'ok', fps: 5 }, mqtt: { state: 'degraded', detail: 'reconnecting' } } });
    expect(body.models.intruder).toEqual({ name: models.detector.current()!.info.name, version: models.detector.current()!.info.version });
    expect(body.models.forecast.name).toBe(models.forecaster.current()!.info.name);
    expect(body.uptime_s).toBeGreaterThanOrEqual(0);
    expect(Date.parse(body.time)).not.toBeNaN();
    await app.close();
  });

  it('is 503 when a component is down, or when the health report itself fails', async () => {
    const down = await buildTestApp(models, { health: () => ({ components: { sensor: { state: 'down', detail: 'no reading for 60 s' } } }) });
    const res = await down.app.inject({ url: '/health' });
    expect(res.statusCode).toBe(503);
    expect(res.json().status).toBe('down');
    await down.app.close();
    const broken = await buildTestApp(models, {
      health: () => {
        throw new Error('store closed');
      },
    });
    const failed = await broken.app.inject({ url: '/health' });
    expect(failed.statusCode).toBe(503);
    expect(failed.json().components.agent).toEqual({ state: 'down', detail: 'health report failed: store closed' });
    await broken.app.close();
  });
});
