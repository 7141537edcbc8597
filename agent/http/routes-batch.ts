/**
 * Batch inference: `POST /v1/intruders/batch` (`{ "images": [base64, ...] }`) and
 * `POST /v1/temperature/forecast/batch` (`{ "windows": [[60 numbers], ...] }`). Each item is checked,
 * queued and answered as the single routes would do it, and gets its own answer or its own refusal
 * (`{ index, status, error, message }`); the batch as a whole is refused only for what concerns all its
 * items: the key, the body, the item count, the rate limit and the queue (see docs/http.md).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpConfig } from '../config/types.js';
import type { RateCharge } from './access.js';
import { HttpError, toHttpError } from './errors.js';
import type { InferenceService } from './inference.js';
import { RequestAbortedError } from './inference-queue.js';
import { checkDecodable, checkWindow, decodeBase64Image, isObject } from './inputs.js';
import { clientGone, setErrorFormat } from './replies.js';
import { detectionBody, forecastBody, unsupportedType } from './routes-v1.js';

export type BatchLimits = Pick<HttpConfig, 'max_batch_items' | 'max_queue' | 'rate_limit' | 'body_limit_bytes'>;

/** One item's answer: what the single route answers, with its place in the batch and its status. */
type AnsweredItem = { index: number; status: 200 } & Record<string, unknown>;
/** One item's refusal: the status, code and message the single route would have answered with. */
interface RefusedItem {
  index: number;
  status: number;
  error: string;
  message: string;
}
export type BatchItem = AnsweredItem | RefusedItem;

/** An item after its checks: the model input, or why it was refused. */
type Checked<T> = { index: number; input: T } | { index: number; refused: HttpError };

function batchSchema(field: string, description: string) {
  return {
    body: {
      content: {
        'application/json': {
          schema: {
            type: 'object',
            required: [field],
            additionalProperties: false,
            // Items are not typed here: a wrong one is refused on its own, not with the whole batch.
            properties: { [field]: { type: 'array', minItems: 1, description } },
          },
        },
      },
    },
  };
}

/**
 * The most items a batch may hold: the configured maximum, and never more than could ever be let
 * through at once (a token and a queue place each), so a batch refused for its size says so at once
 * instead of being answered 429 or 503 forever.
 */
export function batchLimit(limits: BatchLimits): { max: number; why: string } {
  const bounds: [number, string][] = [[limits.max_batch_items, `http.max_batch_items = ${limits.max_batch_items}`]];
  if (limits.rate_limit.enabled) bounds.push([limits.rate_limit.burst, `http.rate_limit.burst = ${limits.rate_limit.burst}`]);
  bounds.push([limits.max_queue, `http.max_queue = ${limits.max_queue}`]);
  const max = Math.min(...bounds.map(([n]) => n));
  return { max, why: bounds.map(([, text]) => text).join(', ') };
}

/** The batch's items (the schema made sure they are an array when the body is JSON). */
function jsonArray(request: FastifyRequest, field: string): unknown[] {
  const body = request.body;
  if (!isObject(body) || request.mediaType !== 'application/json') throw unsupportedType(request.headers['content-type'], 'application/json');
  return body[field] as unknown[];
}

export function batchRoutes(inference: InferenceService, limits: BatchLimits, rate: RateCharge) {
  const { max, why } = batchLimit(limits);

  /** Refuses a batch over the limit, then takes a token for each item but the first (taken on arrival). */
  function admit(request: FastifyRequest, reply: FastifyReply, items: unknown[], field: string): void {
    if (items.length > max) {
      throw new HttpError(400, `${field} holds ${items.length} items: at most ${max} per batch (${why})`, {}, 'batch_too_large');
    }
    rate.takeMore(request, reply, items.length - 1);
  }

  /** Answers each item: its result, its own check's refusal, or the failure of its own inference. */
  async function answer<T, A>(
    request: FastifyRequest,
    checked: Checked<T>[],
    run: (inputs: T[]) => Promise<A>[],
    render: (answer: A) => Record<string, unknown>,
  ): Promise<{ items: BatchItem[] }> {
    const accepted = checked.filter((item): item is { index: number; input: T } => 'input' in item);
    // Throws for the whole batch (503) when the model is not loaded or the queue cannot take every item.
    const runs = accepted.length > 0 ? run(accepted.map((item) => item.input)) : [];
    const outcomes = await Promise.allSettled(runs);
    const byIndex = new Map(accepted.map((item, i) => [item.index, outcomes[i]!]));
    const items = checked.map((item): BatchItem => {
      if ('refused' in item) return refusal(item.index, item.refused);
      const outcome = byIndex.get(item.index)!;
      if (outcome.status === 'fulfilled') return { index: item.index, status: 200, ...render(outcome.value) };
      const error = toHttpError(outcome.reason, limits.body_limit_bytes);
      // A client that went away reads nothing: its dropped items are no failure worth a log line.
      if (error.code === 'internal' && !(outcome.reason instanceof RequestAbortedError)) {
        request.log.error({ err: outcome.reason, index: item.index }, 'batch item failed');
      }
      return refusal(item.index, error);
    });
    return { items };
  }

  return async function register(app: FastifyInstance): Promise<void> {
    setErrorFormat(app, 'v1');

    app.post(
      '/v1/intruders/batch',
      { schema: batchSchema('images', 'the images (JPEG, PNG, WebP), each base64'), onRequest: inference.refuseWhenFull('detect') },
      async (request, reply) => {
        const images = jsonArray(request, 'images');
        admit(request, reply, images, 'images');
        // Each image is priced against the decode budget on its own, as a single request's would be.
        const checked = await Promise.all(
          images.map((value, index) => checkItem(index, async () => checkDecodable(decodeBase64Image(value, `images[${index}]`)))),
        );
        const signal = clientGone(reply);
        return answer(request, checked, (inputs) => inference.detectAll(inputs, signal), detectionBody);
      },
    );

    app.post(
      '/v1/temperature/forecast/batch',
      { schema: batchSchema('windows', 'windows of readings in °C, oldest first'), onRequest: inference.refuseWhenFull('forecast') },
      async (request, reply) => {
        const windows = jsonArray(request, 'windows');
        admit(request, reply, windows, 'windows');
        const length = inference.forecastWindow();
        const checked = await Promise.all(windows.map((value, index) => checkItem(index, async () => checkWindow(value, `windows[${index}]`, length))));
        const signal = clientGone(reply);
        return answer(request, checked, (inputs) => inference.forecastAll(inputs, signal), forecastBody);
      },
    );
  };
}

async function checkItem<T>(index: number, check: () => Promise<T>): Promise<Checked<T>> {
  try {
    return { index, input: await check() };
  } catch (err) {
    if (err instanceof HttpError) return { index, refused: err };
    throw err;
  }
}

function refusal(index: number, error: HttpError): RefusedItem {
  return { index, status: error.statusCode, error: error.code, message: error.message };
}
