/**
 * The agent's own inference API: `POST /v1/intruders` (an image as the raw body, or JSON
 * `{ "image": base64 }`) and `POST /v1/temperature/forecast` (`{ "values": [60 numbers] }`).
 * Errors are `{ statusCode, error, message }`, the same shape fastify uses for its own.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { HttpError } from './errors.js';
import type { DetectionAnswer, ForecastAnswer, InferenceService } from './inference.js';
import { checkDecodable, checkImageBytes, checkWindow, decodeBase64Image, IMAGE_CONTENT_TYPES, isObject } from './inputs.js';
import { clientGone, setErrorFormat } from './replies.js';

/** Far more readings than any forecaster takes; bounds the work of validating a hostile array. */
const MAX_VALUES = 10_000;

const intrudersSchema = {
  body: {
    content: {
      'application/json': {
        schema: {
          type: 'object',
          required: ['image'],
          additionalProperties: false,
          properties: { image: { type: 'string', minLength: 1, description: 'the image file (JPEG, PNG, WebP), base64' } },
        },
      },
    },
  },
};

const forecastSchema = {
  body: {
    content: {
      'application/json': {
        schema: {
          type: 'object',
          required: ['values'],
          additionalProperties: false,
          properties: {
            values: { type: 'array', maxItems: MAX_VALUES, items: { type: 'number' }, description: 'readings in °C, oldest first' },
          },
        },
      },
    },
  },
  response: {
    200: {
      type: 'object',
      properties: {
        predicted_celsius: { type: 'number' },
        unit: { type: 'string' },
        horizon_s: { type: 'number' },
        model: { type: 'object', properties: { name: { type: 'string' }, version: { type: 'string' } } },
      },
    },
  },
};

export function unsupportedType(contentType: string | undefined, accepted: string): HttpError {
  return new HttpError(415, `unsupported content type ${contentType ?? '(none)'}: send ${accepted}`, {}, 'content_type');
}

/** The answer to one image: the detector's result and the model that made it. */
export function detectionBody({ result, model }: DetectionAnswer) {
  return { ...result, model };
}

/** The answer to one window. */
export function forecastBody(answer: ForecastAnswer) {
  return { predicted_celsius: answer.predicted_celsius, unit: answer.contract.unit, horizon_s: answer.contract.horizon_s, model: answer.model };
}

export function v1Routes(inference: InferenceService) {
  return async function register(app: FastifyInstance): Promise<void> {
    setErrorFormat(app, 'v1');

    app.post('/v1/intruders', { schema: intrudersSchema, onRequest: inference.refuseWhenFull('detect') }, async (request, reply: FastifyReply) => {
      const body = request.body;
      let image: Uint8Array;
      if (Buffer.isBuffer(body) && (IMAGE_CONTENT_TYPES as readonly string[]).includes(request.mediaType ?? '')) {
        image = checkImageBytes(body, 'the body');
      } else if (isObject(body) && request.mediaType === 'application/json') {
        image = decodeBase64Image(body.image, 'image');
      } else {
        throw unsupportedType(request.headers['content-type'], `${IMAGE_CONTENT_TYPES.join(', ')} or application/json`);
      }
      return detectionBody(await inference.detect(await checkDecodable(image), clientGone(reply)));
    });

    app.post('/v1/temperature/forecast', { schema: forecastSchema, onRequest: inference.refuseWhenFull('forecast') }, async (request, reply) => {
      const body = request.body;
      if (!isObject(body) || request.mediaType !== 'application/json') {
        throw unsupportedType(request.headers['content-type'], 'application/json');
      }
      const values = checkWindow(body.values, 'values', inference.forecastWindow());
      return forecastBody(await inference.forecast(values, clientGone(reply)));
    });
  };
}
