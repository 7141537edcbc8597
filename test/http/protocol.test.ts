/**
 * What no route answers: unknown paths (404), other methods on known paths (405 with Allow), CONNECT, and
 * bytes the HTTP parser refuses, over a real socket where it matters (CONNECT and parser errors never
 * reach fastify's inject).
 */
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Forecaster, IntruderDetector } from '../../models/types.js';
import { ModelSlot } from '../../agent/runtime/model-slot.js';
import { buildTestApp, KEY } from './harness.js';

let app: FastifyInstance;
let port: number;

beforeAll(async () => {
  // No models needed: nothing here reaches one.
  ({ app } = await buildTestApp({ detector: new ModelSlot<IntruderDetector>(), forecaster: new ModelSlot<Forecaster>() }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
});
afterAll(() => app?.close());

interface RawExchange {
  response: string;
  /** How the server left the connection: a graceful close (FIN) or a reset. */
  ending: 'end' | 'reset';
}

/** Writes raw bytes on a fresh connection and collects everything until the server closes it. */
function raw(bytes: string): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let response = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (response += chunk));
    socket.on('end', () => resolve({ response, ending: 'end' }));
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? resolve({ response, ending: 'reset' }) : reject(err)));
    socket.write(bytes, 'latin1');
  });
}

describe('unknown paths and methods', () => {
  it('answers 404 for a path the API does not have, without echoing a long URL', async () => {
    const response = await app.inject({ method: 'GET', url: `/${'x'.repeat(5000)}`, headers: { 'x-api-key': KEY } });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ statusCode: 404, error: 'Not Found', message: `no such path: /${'x'.repeat(127)}…` });
  });

  it.each([
    ['DELETE', '/v1/intruders', 'POST'],
    ['GET', '/v1/temperature/forecast', 'POST'],
    ['PUT', '/health', 'GET, HEAD'],
    ['OPTIONS', '/metrics', 'GET, HEAD'],
    ['PATCH', '/api/status?x=1', 'GET, HEAD'],
  ])('answers 405 with Allow for %s %s', async (method, url, allow) => {
    const response = await app.inject({ method: method as 'GET', url, headers: { 'x-api-key': KEY } });
    expect(response.statusCode).toBe(405);
    expect(response.headers['allow']).toBe(allow);
    expect(response.json()).toMatchObject({ statusCode: 405, error: 'Method Not Allowed', message: `${method} is not allowed on ${url.split('?')[0]}: use ${allow}` });
  });

  it("answers the old contract's paths in its own error shape", async () => {
    const response = await app.inject({ method: 'GET', url: '/compat/intruders', headers: { 'x-api-key': KEY } });
    expect(response.statusCode).toBe(405);
    expect(response.json()).toEqual({ error: 'GET is not allowed on /compat/intruders: use POST' });
  });

  it('answers CONNECT with 405 and closes, instead of dropping the connection unanswered', async () => {
    const { response, ending } = await raw('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expect(response).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\n/);
    expect(response).toMatch(/\r\nconnection: close\r\n/i);
    expect(response).toContain('"message":"CONNECT is not allowed: this is not a proxy"');
    expect(ending).toBe('end');
  });
});

describe('requests the HTTP parser refuses', () => {
  it('answers an invalid header byte with 400 and Connection: close, then closes gracefully', async () => {
    const { response, ending } = await raw('GET /health HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0001b\r\n\r\n');
    expect(response).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(response).toMatch(/\r\nconnection: close\r\n/i);
    expect(JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4))).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'malformed request: an invalid character in a header',
    });
    expect(ending).toBe('end');
  });

  it('answers oversized headers with 431 and closes', async () => {
    const { response } = await raw(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(response).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(response).toMatch(/\r\nconnection: close\r\n/i);
  });

  it('still serves the next client normally', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/health`);
    expect(response.status).toBe(200);
  });
});
