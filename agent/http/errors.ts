/**
 * How failures become HTTP answers. Input errors are 4xx with a message naming what and why; a full
 * queue or a missing model is 503 with Retry-After; anything else is a 500 whose details stay in the log.
 */
import { InvalidInputError } from '../../models/errors.js';
import { QueueFullError } from './inference-queue.js';

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly headers: Record<string, string> = {},
    /** A machine-readable reason (the old contract maps some to its own messages). */
    readonly code = 'error',
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The model a request needs has not been loaded (or was unloaded by a failed update). */
export class ModelUnavailableError extends HttpError {
  constructor(role: string) {
    super(503, `the ${role} model is not loaded`, { 'retry-after': '30' }, 'model_unavailable');
  }
}

/** Messages of fastify's own 4xx errors, reworded where its wording does not tell a client what to do. */
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'the body is not valid JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'the body is empty; send a JSON object',
  FST_ERR_CTP_BODY_TOO_LARGE: 'the request body is larger than the limit',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported content type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'the Content-Length header does not match the body',
};

function isFastifyClientError(err: unknown): err is { statusCode: number; code?: string; message: string } {
  if (typeof err !== 'object' || err === null) return false;
  const status = (err as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}

/** Turns anything thrown while serving a request into the error to answer with. */
export function toHttpError(err: unknown, bodyLimitBytes: number): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof QueueFullError) return new HttpError(503, err.message, { 'retry-after': String(err.retryAfterS) }, 'queue_full');
  if (err instanceof InvalidInputError) return new HttpError(400, err.message, {}, 'invalid_input');
  if (isFastifyClientError(err)) {
    const code = err.code ?? 'client_error';
    let message = FASTIFY_MESSAGES[code] ?? err.message;
    if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') message = `${message} (${bodyLimitBytes} bytes)`;
    return new HttpError(err.statusCode, message, {}, code);
  }
  return new HttpError(500, 'internal error (see the agent log)', {}, 'internal');
}
