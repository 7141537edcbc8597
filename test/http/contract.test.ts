/** The inference endpoints' answers, field by field: /v1 and the old cloud API's contract under /compat. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WRONG_COUNT_MESSAGE } from '../../agent/http/routes-compat.js';
import { fixture } from '../helpers/fixtures.js';
import { KEY, sharedTestApp, window60 } from './harness.js';

const bus = readFileSync(fixture('images/bus.jpg'));
const dog = readFileSync(fixture('images/dog.jpg'));
const cat = readFileSync(fixture('images/cat.png'));
const coffee = readFileSync(fixture('images/coffee.png'));

/** The fixture README's reference persons in bus.jpg ([xmin, ymin, xmax, ymax], original pixels). */
const BUS_PERSONS = [
  [33, 270, 166, 620],
  [461, 264, 553, 602],
  [151, 278, 234, 588],
];

function expectNear(actual: number[], expected: number[], tolerance: number) {
  actual.forEach((value, i) => expect(Math.abs(value - expected[i]!)).toBeLessThanOrEqual(tolerance));
}

function sortByX<T extends number[]>(boxes: T[]): T[] {
  return [...boxes].sort((a, b) => a[0]! - b[0]!);
}

const shared = sharedTestApp({ http: { rate_limit: { enabled: false, per_second: 10, burst: 10 }, max_queue: 50 } });

const post = (url: string, payload: unknown, contentType = 'application/json') =>
  shared().app.inject({
    method: 'POST',
    url,
    headers: { 'x-api-key': KEY, 'content-type': contentType },
    payload: Buffer.isBuffer(payload) ? payload : JSON.stringify(payload),
  });

describe('POST /v1/intruders', () => {
  it('detects the three persons of bus.jpg sent as a raw JPEG body', async () => {
    const res = await post('/v1/intruders', bus, 'image/jpeg');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.intruder).toBe(true);
    expect(body.objects.map((o: { class: string }) => o.class)).toEqual(['person', 'person', 'person']);
    // 3 persons and the bus pass the 0.5 threshold; only the persons are intruders.
    expect(body.total_objects).toBe(4);
    for (const o of body.objects) expect(o.confidence).toBeGreaterThan(0.85);
    const boxes = sortByX(body.objects.map((o: { bbox: Record<string, number> }) => [o.bbox.xmin!, o.bbox.ymin!, o.bbox.xmax!, o.bbox.ymax!]));
    sortByX(BUS_PERSONS).forEach((expected, i) => expectNear(boxes[i]!, expected, 3));
    expect(body.image).toEqual({ width: 554, height: 740 });
    expect(body.model).toEqual({ name: shared().models.detector.current()!.info.name, version: shared().models.detector.current()!.info.version });
    expect(body.timings_ms.total).toBeGreaterThan(0);
  });

  it('takes JSON { image: base64 } and PNG bodies', async () => {
    const asJson = await post('/v1/intruders', { image: dog.toString('base64') });
    expect(asJson.statusCode).toBe(200);
    expect(asJson.json().objects).toHaveLength(1);
    expect(asJson.json().objects[0]).toMatchObject({ class: 'dog' });
    expect(asJson.json().objects[0].confidence).toBeCloseTo(0.96, 1);
    const png = await post('/v1/intruders', cat, 'image/png');
    expect(png.json().objects.map((o: { class: string }) => o.class)).toEqual(['cat']);
    const nothing = await post('/v1/intruders', coffee, 'image/png');
    expect(nothing.json()).toMatchObject({ intruder: false, objects: [] });
  });

  it('reports HTTP inferences to the metrics like the pipeline does', async () => {
    await post('/v1/intruders', bus, 'image/jpeg');
    const text = (await shared().app.inject({ url: '/metrics', headers: { authorization: `Bearer ${KEY}` } })).body;
    const { name, version } = shared().models.detector.current()!.info;
    expect(text).toMatch(new RegExp(`^edge_agent_inference_seconds_count\\{model="${name}",version="${version}"\\} [1-9]`, 'm'));
    expect(text).toMatch(/^edge_agent_http_requests_total\{route="\/v1\/intruders",status="200"\} [1-9]/m);
  });
});

describe('POST /compat/intruders (the old contract)', () => {
  it('answers { statusCode: 200, body } with the old field names, for both request shapes', async () => {
    const image = bus.toString('base64');
    const wrapped = await post('/compat/intruders', { body: { image } });
    const bare = await post('/compat/intruders', { image });
    expect(wrapped.statusCode).toBe(200);
    expect(bare.json()).toEqual(wrapped.json());
    const result = wrapped.json();
    expect(Object.keys(result)).toEqual(['statusCode', 'body']);
    expect(result.statusCode).toBe(200);
    expect(Object.keys(result.body)).toEqual(['detectado', 'intruso_detectado', 'objetos', 'total_objetos']);
    expect(result.body.detectado).toBe(true);
    expect(result.body.intruso_detectado).toBe(true);
    expect(result.body.total_objetos).toBe(3);
    expect(result.body.objetos).toHaveLength(3);
    for (const objeto of result.body.objetos) {
      expect(Object.keys(objeto)).toEqual(['clase', 'confianza', 'bbox']);
      expect(objeto.clase).toBe('person');
      expect(objeto.confianza).toBeGreaterThan(0.85);
      expect(objeto.bbox).toHaveLength(4);
    }
    sortByX(BUS_PERSONS).forEach((expected, i) => expectNear(sortByX(result.body.objetos.map((o: { bbox: number[] }) => o.bbox))[i]!, expected, 3));
  });

  it('also takes the API Gateway proxy shape with the body as JSON text, and JSON sent without a content type', async () => {
    const image = dog.toString('base64');
    const asText = await post('/compat/intruders', { body: JSON.stringify({ image }) });
    expect(asText.json().body.objetos.map((o: { clase: string }) => o.clase)).toEqual(['dog']);
    const untyped = await shared().app.inject({ method: 'POST', url: '/compat/intruders', headers: { 'x-api-key': KEY }, payload: JSON.stringify({ image }) });
    expect(untyped.statusCode).toBe(200);
    expect(untyped.json().body.intruso_detectado).toBe(true);
  });

  it('says nothing was detected in coffee.png', async () => {
    const res = await post('/compat/intruders', { image: coffee.toString('base64') });
    expect(res.json()).toEqual({ statusCode: 200, body: { detectado: false, intruso_detectado: false, objetos: [], total_objetos: 0 } });
  });

  it('answers 400 { error } for a missing or undecodable image', async () => {
    const missing = await post('/compat/intruders', { imagen: 'x' });
    expect(missing.statusCode).toBe(400);
    expect(Object.keys(missing.json())).toEqual(['error']);
    expect(missing.json().error).toMatch(/missing field image/);
    const garbage = await post('/compat/intruders', { image: Buffer.from('not an image at all').toString('base64') });
    expect(garbage.statusCode).toBe(400);
    expect(garbage.json().error).toMatch(/not a JPEG, PNG or WebP image/);
  });
});

describe('temperature forecasts', () => {
  it('/v1/temperature/forecast and /compat/temperature give the forecaster\'s own prediction', async () => {
    const values = window60();
    const expected = await shared().models.forecaster.current()!.forecast(values);
    const v1 = await post('/v1/temperature/forecast', { values });
    expect(v1.statusCode).toBe(200);
    const { name, version } = shared().models.forecaster.current()!.info;
    expect(v1.json()).toEqual({ predicted_celsius: expected, unit: 'Celsius', horizon_s: shared().models.forecaster.current()!.contract.horizon_s, model: { name, version } });

    const compat = await post('/compat/temperature', { temperaturas: values });
    expect(compat.statusCode).toBe(200);
    expect(compat.json()).toEqual({ statusCode: 200, body: { prediccion: expected, unidad: 'Celsius' } });
  });

  it('answers many concurrent requests each with its own window (batched runs keep the order)', async () => {
    const windows = Array.from({ length: 20 }, (_, i) => window60(15 + i * 0.5));
    const expected = await Promise.all(windows.map((w) => shared().models.forecaster.current()!.forecast(w)));
    const answers = await Promise.all(windows.map((values) => post('/v1/temperature/forecast', { values })));
    expect(answers.map((a) => a.json().predicted_celsius)).toEqual(expected);
  });

  it('keeps the old 400 message for a wrong number of values', async () => {
    for (const temperaturas of [window60().slice(1), [...window60(), 21], [], 'sixty', null]) {
      const res = await post('/compat/temperature', { temperaturas });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: WRONG_COUNT_MESSAGE });
    }
    expect((await post('/compat/temperature', {})).json()).toEqual({ error: 'Se requieren exactamente 60 valores de temperatura' });
  });

  it('names the field and the reason for every other bad window', async () => {
    const withText = window60() as unknown[];
    withText[7] = '21.5';
    const v1 = await post('/v1/temperature/forecast', { values: withText });
    expect(v1.statusCode).toBe(400);
    expect(v1.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(v1.json().message).toMatch(/values\/7 must be number/);
    const compat = await post('/compat/temperature', { temperaturas: withText });
    expect(compat.json()).toEqual({ error: 'temperaturas: value at index 7 is not a number: "21.5"' });
    const short = await post('/v1/temperature/forecast', { values: window60().slice(0, 59) });
    expect(short.json().message).toBe('values must be an array of exactly 60 numbers, got an array of 59');
    // JSON has no Infinity, but 1e999 parses as one: the schema (and the old contract's check) refuse it.
    const withHuge = `[${[...window60().slice(1).map(String), '1e999'].join(',')}]`;
    const send = (url: string, payload: string) =>
      shared().app.inject({ method: 'POST', url, headers: { 'x-api-key': KEY, 'content-type': 'application/json' }, payload });
    const huge = await send('/v1/temperature/forecast', `{"values":${withHuge}}`);
    expect(huge.statusCode).toBe(400);
    expect(huge.json().message).toBe('body/values/59 must be number');
    const hugeCompat = await send('/compat/temperature', `{"temperaturas":${withHuge}}`);
    expect(hugeCompat.json()).toEqual({ error: 'temperaturas: value at index 59 is not a finite number: Infinity' });
    const implausible = await post('/v1/temperature/forecast', { values: [...window60().slice(1), 1e300] });
    expect(implausible.statusCode).toBe(400);
    expect(implausible.json().message).toBe('values: value at index 59 is outside the plausible range -60 to 125 °C: 1e+300');
  });
});
