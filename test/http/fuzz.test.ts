/**
 * Property-based: at least 10,000 random and malformed bodies per inference endpoint. Every one gets a
 * 4xx with a message (never a 5xx, never a crash); only the few generated inputs that can be valid
 * (a truncated real photo) may also get a 200.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/fixtures.js';
import { KEY, sharedTestApp, window60 } from './harness.js';

interface FuzzRequest {
  contentType: string | null;
  payload: string | Buffer;
}

type Api = 'v1' | 'compat';

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'image/jpeg',
  'image/png',
  'image/webp',
  'image/gif',
  'text/plain',
  'application/octet-stream',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/vnd.api+json',
];

const json = (value: unknown): FuzzRequest => ({ contentType: 'application/json', payload: JSON.stringify(value) });

/** Anything JSON can say, as a JSON body. */
const anyJson = fc.jsonValue().map(json);
/** Text that is mostly not JSON, sent as JSON. */
const anyText = fc.string({ unit: 'binary', maxLength: 200 }).map((text): FuzzRequest => ({ contentType: 'application/json', payload: text }));
/** Random bytes under a random (or no) content type. */
const anyBytes = fc.record({
  contentType: fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: null }),
  payload: fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)),
});

/** A value that is not a finite number, as JSON text (so Infinity and NaN can be spelled out). */
const badNumberText = fc.oneof(
  fc.constantFrom('"21.5"', 'null', 'true', '[]', '{}', '[21.5]', '"NaN"', '"Infinity"', '1e999', '-1e999', '""'),
  fc.string({ maxLength: 10 }).map((s) => JSON.stringify(s)),
);

/** A window of readings that is wrong in one way: its length, one element, or its container. */
function badWindow(field: string): fc.Arbitrary<FuzzRequest> {
  const number = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 });
  const wrongLength = fc
    .array(number, { maxLength: 130 })
    .filter((a) => a.length !== 60)
    .map((values) => json({ [field]: values }));
  const oneBadElement = fc.tuple(fc.array(number, { minLength: 60, maxLength: 60 }), fc.nat(59), badNumberText).map(
    ([values, at, bad]): FuzzRequest => {
      const items = values.map((v) => JSON.stringify(v));
      items[at] = bad;
      return { contentType: 'application/json', payload: `{"${field}":[${items.join(',')}]}` };
    },
  );
  const wrongContainer = fc
    .oneof(fc.jsonValue().filter((v) => !Array.isArray(v)), fc.constant(undefined))
    .map((v) => json(v === undefined ? {} : { [field]: v }));
  const extraFields = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.jsonValue(), { minKeys: 1, maxKeys: 3 }).map((extra) => json({ ...extra, [field]: window60().slice(1) }));
  return fc.oneof(wrongLength, oneBadElement, wrongContainer, extraFields);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG_SOI = Buffer.from([0xff, 0xd8, 0xff]);

/** Bytes that look like an image at first sight and are not one. */
const fakeImageBytes = fc
  .tuple(fc.constantFrom(JPEG_SOI, PNG_SIGNATURE, Buffer.from('RIFF\0\0\0\0WEBP')), fc.uint8Array({ maxLength: 300 }))
  .map(([magic, rest]) => Buffer.concat([magic, Buffer.from(rest)]));

/** Images sent in a way that is wrong: not base64, not an image, the wrong JSON type. */
function badImage(wrap: (image: unknown) => unknown): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(
    fc.string({ maxLength: 200 }).map((s) => json(wrap(s))),
    fc.uint8Array({ maxLength: 300 }).map((b) => json(wrap(Buffer.from(b).toString('base64')))),
    fakeImageBytes.map((b) => json(wrap(b.toString('base64')))),
    fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.object({ maxDepth: 1 })).map((v) => json(wrap(v))),
    fc.constantFrom('data:image/jpeg;base64,!!!!', '====', 'a', 'ab=c', '/9j/').map((s) => json(wrap(s))),
  );
}

const shared = sharedTestApp({ http: { rate_limit: { enabled: false, per_second: 10, burst: 10 }, max_queue: 100 } });

function send(url: string, request: FuzzRequest): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { 'x-api-key': KEY };
  if (request.contentType !== null) headers['content-type'] = request.contentType;
  return shared().app.inject({ method: 'POST', url, headers, payload: request.payload });
}

/** The message a client can show: /v1's `message`, the old contract's `error` (or `message` for 403). */
function messageOf(response: LightMyRequestResponse, api: Api): unknown {
  const body = response.json() as Record<string, unknown>;
  return api === 'v1' ? body.message : (body.error ?? body.message);
}

interface Plan {
  arbitrary: fc.Arbitrary<FuzzRequest>;
  numRuns: number;
  /** Inputs that can happen to be valid (a photo cut after its last scan line) may also get a 200. */
  mayPass?: boolean;
}

async function expectRejected(url: string, api: Api, { arbitrary, numRuns, mayPass = false }: Plan): Promise<void> {
  await fc.assert(
    fc.asyncProperty(arbitrary, async (request) => {
      const response = await send(url, request);
      if (mayPass && response.statusCode === 200) return;
      const message = messageOf(response, api);
      if (response.statusCode < 400 || response.statusCode >= 500 || typeof message !== 'string' || message.length === 0) {
        throw new Error(`${url} answered ${response.statusCode} ${response.body.slice(0, 300)}`);
      }
    }),
    { numRuns },
  );
}

const bus = readFileSync(fixture('images/bus.jpg'));
// Cut before the end-of-image marker: the decoder must refuse it (the few it can still decode pass).
const truncatedPhoto = fc.integer({ min: 0, max: bus.length - 3 }).map((n): FuzzRequest => ({ contentType: 'image/jpeg', payload: bus.subarray(0, n) }));
const rawFakeImage = fakeImageBytes.map((b): FuzzRequest => ({ contentType: 'image/jpeg', payload: b }));

/** Malformed in general: any JSON, any text as JSON, any bytes under any content type (7,000 runs). */
const GENERIC: Plan[] = [
  { arbitrary: anyJson, numRuns: 3000 },
  { arbitrary: anyText, numRuns: 2000 },
  { arbitrary: anyBytes, numRuns: 2000 },
];

const ENDPOINTS: { url: string; api: Api; plans: Plan[] }[] = [
  { url: '/v1/temperature/forecast', api: 'v1', plans: [...GENERIC, { arbitrary: badWindow('values'), numRuns: 3000 }] },
  { url: '/compat/temperature', api: 'compat', plans: [...GENERIC, { arbitrary: badWindow('temperaturas'), numRuns: 3000 }] },
  {
    url: '/v1/intruders',
    api: 'v1',
    plans: [
      ...GENERIC,
      { arbitrary: badImage((image) => ({ image })), numRuns: 1500 },
      { arbitrary: rawFakeImage, numRuns: 1300 },
      { arbitrary: truncatedPhoto, numRuns: 200, mayPass: true },
    ],
  },
  {
    url: '/compat/intruders',
    api: 'compat',
    plans: [...GENERIC, { arbitrary: badImage((image) => ({ body: { image } })), numRuns: 1500 }, { arbitrary: badImage((image) => ({ image })), numRuns: 1500 }],
  },
];

describe('10,000+ malformed bodies per endpoint: always a 4xx with a message', () => {
  it.each(ENDPOINTS)('POST $url', { timeout: 120_000 }, async ({ url, api, plans }) => {
    expect(plans.reduce((sum, plan) => sum + plan.numRuns, 0)).toBeGreaterThanOrEqual(10_000);
    for (const plan of plans) await expectRejected(url, api, plan);
  });
});
