/**
 * Error bodies per API, and the client-gone signal. /v1 answers `{ statusCode, error, message }`; the
 * old contract answers what its clients parse: 403 `{ "message": "Forbidden" }`, 429
 * `{ "error": "Too Many Requests" }`, anything else `{ "error": message }`.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { toHttpError, type HttpError } from './errors.js';

export type ErrorFormat = 'v1' | 'compat';

function v1Body(error: HttpError) {
  return { statusCode: error.statusCode, error: STATUS_CODES[error.statusCode] ?? 'Error', message: error.message };
}

function compatBody(error: HttpError) {
  if (error.statusCode === 403) return { message: 'Forbidden' };
  if (error.statusCode === 429) return { error: 'Too Many Requests' };
  return { error: error.message };
}

/** Answers with `error` in an API's format. */
export function sendError(reply: FastifyReply, error: HttpError, format: ErrorFormat): FastifyReply {
  return reply
    .code(error.statusCode)
    .headers(error.headers)
    .send(format === 'v1' ? v1Body(error) : compatBody(error));
}

/** Sets the error handler of an encapsulated context (auth and rate-limit errors of its routes included). */
export function setErrorFormat(app: FastifyInstance, format: ErrorFormat): void {
  app.setErrorHandler((err, request, reply) => {
    const error = toHttpError(err, app.initialConfig.bodyLimit ?? 0);
    if (error.code === 'internal') request.log.error({ err, method: request.method, url: request.url }, 'request failed');
    void sendError(reply, error, format);
  });
}

/**
 * Aborts when the client disconnects before its answer was sent, so a queued inference nobody waits for
 * is dropped. (fastify's `request.signal` fires as soon as the body has been read, on Node 20.)
 */
export function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}
