/**
 * Requests no route answers, and bytes that are not HTTP at all:
 * - a path the API does not have is 404 (without echoing the whole URL back); a method a path does not
 *   take is 405 with `Allow` (it was 404);
 * - CONNECT, which Node hands to a 'connect' listener instead of a route (without one it dropped the
 *   connection unanswered), is 405 too;
 * - a request the HTTP parser refuses (an invalid header character, an oversized header) is answered 400
 *   or 431 with `Connection: close`, and the socket is ended gracefully: fastify's own answer kept
 *   keep-alive clients believing the connection was reusable, and their next request was reset.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { truncate } from '../lib/quote.js';
import { HttpError } from './errors.js';
import { sendError } from './replies.js';

/** A client that does not close its side after the answer loses the socket after this long. */
const CLOSE_GRACE_MS = 2_000;

/** The whole HTTP/1.1 answer to a connection that is then closed: status line, headers, JSON body. */
function closingResponse(status: number, message: string, extraHeaders: Record<string, string> = {}): string {
  const reason = STATUS_CODES[status] ?? 'Error';
  const body = JSON.stringify({ statusCode: status, error: reason, message });
  const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), connection: 'close', ...extraHeaders };
  return `HTTP/1.1 ${status} ${reason}\r\n${Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n${body}`;
}

/** Writes the answer, ends the socket (FIN, not a reset) and destroys it if the client keeps it open. */
function answerAndClose(socket: Duplex, response: string): void {
  if (socket.destroyed) return;
  if (socket.writable) socket.end(response);
  setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
}

/** fastify's `clientErrorHandler`: what the parser refused, answered in the API's error shape, then closed. */
export function closeOnClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  if (err.code === 'HPE_HEADER_OVERFLOW') return answerAndClose(socket, closingResponse(431, 'the request headers are larger than the limit'));
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return answerAndClose(socket, closingResponse(408, 'the request was not received in time'));
  const what = err.code === 'HPE_INVALID_HEADER_TOKEN' ? 'an invalid character in a header' : `not valid HTTP/1.1 (${err.code ?? 'parse error'})`;
  answerAndClose(socket, closingResponse(400, `malformed request: ${what}`));
}

/** 404 and 405 for every path, and the CONNECT answer; call before the routes are registered. */
export function registerProtocolErrors(app: FastifyInstance): void {
  const methodsByPath = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const methods = methodsByPath.get(route.url) ?? new Set<string>();
    for (const method of [route.method].flat()) methods.add(method);
    // fastify answers HEAD for every GET route.
    if (methods.has('GET')) methods.add('HEAD');
    methodsByPath.set(route.url, methods);
  });

  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0] ?? request.url;
    const format = path.startsWith('/compat/') ? 'compat' : 'v1';
    const methods = methodsByPath.get(path);
    if (!methods) return sendError(reply, new HttpError(404, `no such path: ${truncate(path, 128)}`, {}, 'not_found'), format);
    const allow = [...methods].sort().join(', ');
    return sendError(reply, new HttpError(405, `${request.method} is not allowed on ${path}: use ${allow}`, { allow }, 'method_not_allowed'), format);
  });

  app.server.on('connect', (_request, socket: Duplex) => {
    answerAndClose(socket, closingResponse(405, 'CONNECT is not allowed: this is not a proxy'));
  });
}
