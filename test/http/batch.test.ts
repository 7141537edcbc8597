/**
 * Batch inference over HTTP with the real models: each item answered or refused on its own, the batch
 * refused whole only for its size, the rate limit (one token per item) and the queue (one place per item).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { fixture } from '../helpers/fixtures.js';
import { flatImage } from '../../scripts/bench/layouts.js';
import { buildTestApp, KEY, loadModels, window60, type Models } from './harness.js';

const bus = readFileSync(fixture('images/bus.jpg'));
const person = readFileSync(fixture('images/person.jpg'));
const NO_RATE_LIMIT = { rate_limit: { enabled: false, per_second: 10, burst: 10 } };

let models: Models;
beforeAll(async () => {
  models = await loadModels();
});
afterAll(async () => models.close());

function post(app: FastifyInstance, url: string, payload: object, key: string | null = KEY) {
  return app.inject({ method: 'POST', url, headers: key === null ? {} : { 'x-api-key': key }, payload });
}

/** A detection answer without its timings, which differ from run to run. */
function withoutTimings(answer: Record<string, unknown>) {
  const { timings_ms: _timings, ...rest } = answer;
  return rest;
}

describe('POST /v1/intruders/batch', () => {
  it('answers each image of a mixed batch with its result, or refuses it with its own status, code and reason', async () => {
    const { app } = await buildTestApp(models, { http: NO_RATE_LIMIT });
    const overBudget = await flatImage('progressive-jpeg', 4500, 4500);
    const images = [
      bus.toString('base64'),
      'this is not base64!',
      Buffer.from('GIF89a, not a supported image').toString('base64'),
      42,
      overBudget.toString('base64'),
      `data:image/jpeg;base64,${person.toString('base64')}`,
      // Its header passes the checks; the decode, in the queue, fails: that item alone is refused.
      bus.subarray(0, Math.floor(bus.length / 2)).toString('base64'),
    ];
    const res = await post(app, '/v1/intruders/batch', { images });
    expect(res.statusCode).toBe(200);
    const items = res.json().items as Record<string, unknown>[];
    expect(items.map((item) => [item.index, item.status, item.error ?? null])).toEqual([
      [0, 200, null],
      [1, 400, 'bad_base64'],
      [2, 400, 'not_an_image'],
      [3, 400, 'image_type'],
      [4, 400, 'image_refused'],
      [5, 200, null],
      [6, 400, 'invalid_input'],
    ]);
    expect(items[1]!.message).toBe('images[1] is not valid base64');
    expect(items[2]!.message).toBe('the image decoded from images[2] is not a JPEG, PNG or WebP image (it starts with bytes 47494638)');
    expect(items[3]!.message).toBe('images[3] must be a base64 string, got 42');
    expect(items[4]!.message).toMatch(/^decoding this 4500x4500 progressive JPEG \(decoded whole\) takes about \d+ MB, over the 64 MB decode budget/);
    expect(items[6]!.message).toMatch(/^cannot decode the jpeg image \(.+\)$/);

    // A batch item is answered exactly as the single route answers the same image.
    for (const [index, image] of [[0, bus], [5, person]] as const) {
      const single = await app.inject({ method: 'POST', url: '/v1/intruders', headers: { 'x-api-key': KEY, 'content-type': 'image/jpeg' }, payload: image });
      expect(single.statusCode).toBe(200);
      const { index: _index, status: _status, ...answer } = items[index]!;
      expect(withoutTimings(answer)).toEqual(withoutTimings(single.json()));
    }
    expect(items[0]).toMatchObject({ intruder: true, model: { name: models.detector.current()!.info.name } });
    await app.close();
  });

  it('refuses a batch over the item limit whole, naming the limit and the keys that set it', async () => {
    const { app } = await buildTestApp(models, { http: { ...NO_RATE_LIMIT, max_batch_items: 3 } });
    const image = bus.toString('base64');
    const over = await post(app, '/v1/intruders/batch', { images: [image, image, image, image] });
    expect(over.statusCode).toBe(400);
    expect(over.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'images holds 4 items: at most 3 per batch (http.max_batch_items = 3, http.max_queue = 8)',
    });
    const empty = await post(app, '/v1/intruders/batch', { images: [] });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().message).toMatch(/images must NOT have fewer than 1 items/);
    expect((await post(app, '/v1/intruders/batch', { images: [image, image, image] })).statusCode).toBe(200);
    await app.close();

    // The burst bounds a batch too: a larger one could never get its tokens.
    const limited = await buildTestApp(models, { http: { rate_limit: { enabled: true, per_second: 10, burst: 2 } } });
    const burst = await post(limited.app, '/v1/temperature/forecast/batch', { windows: [window60(), window60(), window60()] });
    expect(burst.statusCode).toBe(400);
    expect(burst.json().message).toBe('windows holds 3 items: at most 2 per batch (http.max_batch_items = 8, http.rate_limit.burst = 2, http.max_queue = 8)');
    await limited.app.close();
  });

  it('needs the API key like every inference route', async () => {
    const { app } = await buildTestApp(models);
    const res = await post(app, '/v1/intruders/batch', { images: [bus.toString('base64')] }, null);
    expect(res.statusCode).toBe(403);
    const wrongType = await app.inject({ method: 'POST', url: '/v1/intruders/batch', headers: { 'x-api-key': KEY, 'content-type': 'image/jpeg' }, payload: bus });
    expect(wrongType.statusCode).toBe(415);
    expect(wrongType.json().message).toBe('unsupported content type image/jpeg: send application/json');
    await app.close();
  });

  it('takes a queue place per image: refused whole with 503 when the queue cannot take them all', async () => {
    const { app } = await buildTestApp(models, { http: { ...NO_RATE_LIMIT, max_queue: 3 } });
    const single = () => app.inject({ method: 'POST', url: '/v1/intruders', headers: { 'x-api-key': KEY, 'content-type': 'image/jpeg' }, payload: bus });
    const depth = async () => {
      const text = (await app.inject({ url: '/metrics', headers: { 'x-api-key': KEY } })).body;
      return Number(/^edge_agent_http_queue_depth\{queue="detection"\} (\d+)$/m.exec(text)?.[1]);
    };
    // Two run at once and two of the three places are taken: one is free (two more detections would have
    // to end before three are), so a batch of three is refused whole; a single request would be taken.
    const singles = Array.from({ length: 4 }, single);
    await expect.poll(depth, { interval: 5 }).toBeGreaterThanOrEqual(2);
    const images = Array.from({ length: 3 }, () => bus.toString('base64'));
    const refused = await post(app, '/v1/intruders/batch', { images });
    expect(refused.statusCode).toBe(503);
    expect(refused.json().message).toMatch(/^the detection queue has no room for 3 requests: retry in \d+ s$/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await Promise.all(singles)).map((r) => r.statusCode)).toEqual([200, 200, 200, 200]);
    const accepted = await post(app, '/v1/intruders/batch', { images });
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json().items.map((item: { status: number }) => item.status)).toEqual([200, 200, 200]);
    await app.close();
  });
});

describe('POST /v1/temperature/forecast/batch', () => {
  it('forecasts each window, refuses each bad one with its reason, and runs the good ones as one model run', async () => {
    const { app, bus: events } = await buildTestApp(models, { http: NO_RATE_LIMIT });
    const runs: string[] = [];
    events.on('inference', runs, (event) => runs.push(event.model));
    const withString: unknown[] = window60();
    withString[7] = '21.5';
    const tooHot = window60();
    tooHot[59] = 999;
    const windows = [window60(18), [20, 21, 22], withString, window60(24), tooHot, 'sixty values'];
    const res = await post(app, '/v1/temperature/forecast/batch', { windows });
    expect(res.statusCode).toBe(200);
    const items = res.json().items as Record<string, unknown>[];
    expect(items.map((item) => [item.index, item.status, item.error ?? null])).toEqual([
      [0, 200, null],
      [1, 400, 'window_length'],
      [2, 400, 'window_value'],
      [3, 200, null],
      [4, 400, 'window_value'],
      [5, 400, 'window_length'],
    ]);
    expect(items[1]!.message).toBe('windows[1] must be an array of exactly 60 numbers, got an array of 3');
    expect(items[2]!.message).toBe('windows[2]: value at index 7 is not a number: "21.5"');
    expect(items[4]!.message).toMatch(/^windows\[4\]: value at index 59 is outside the plausible range/);
    expect(items[5]!.message).toBe('windows[5] must be an array of exactly 60 numbers, got "sixty values"');
    // The two good windows went through the model together, in one run.
    expect(runs).toHaveLength(1);

    for (const [index, start] of [[0, 18], [3, 24]] as const) {
      const single = await post(app, '/v1/temperature/forecast', { values: window60(start) });
      const { index: _index, status: _status, ...answer } = items[index]!;
      expect(answer).toEqual(single.json());
    }
    expect(items[0]!.predicted_celsius).not.toBe(items[3]!.predicted_celsius);
    await app.close();
  });

  it('counts a batch as its items against the rate limit, and refuses it whole when they are not left', async () => {
    let now = 1_700_000_000_000;
    const { app } = await buildTestApp(models, { now: () => now });
    const batch = (n: number) => post(app, '/v1/temperature/forecast/batch', { windows: Array.from({ length: n }, (_, i) => window60(20 + i)) });

    const four = await batch(4);
    expect(four.statusCode).toBe(200);
    expect(four.headers['x-ratelimit-remaining']).toBe('6');
    const six = await batch(6);
    expect(six.statusCode).toBe(200);
    expect(six.headers['x-ratelimit-remaining']).toBe('0');
    expect((await post(app, '/v1/temperature/forecast', { values: window60() })).statusCode).toBe(429);

    now += 300; // 3 tokens back
    const five = await batch(5);
    // One token was taken on arrival, as for any request; the 4 more it needs are not there: nothing ran.
    expect(five.statusCode).toBe(429);
    expect(five.headers['x-ratelimit-remaining']).toBe('2');
    expect(five.headers['retry-after']).toBe('1');
    expect(five.json()).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: 'too many requests: a batch counts as one request per item, and the 4 more it needs are not left',
    });
    // The refused batch's arrival token stays spent (it was read, like any refused request): 2 are left.
    const two = await batch(2);
    expect(two.statusCode).toBe(200);
    expect(two.headers['x-ratelimit-remaining']).toBe('0');
    expect(two.json().items).toHaveLength(2);
    await app.close();
  });
});
