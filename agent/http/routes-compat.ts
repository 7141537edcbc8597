/**
 * The old cloud API's contract, for its existing clients: a client written for it works by changing only
 * its URL and key. Requests are read as JSON whatever their content type (old clients often sent none),
 * answers are `{ "statusCode": 200, "body": {...} }` with the old Spanish field names, and errors carry
 * the old bodies (see replies.ts and docs/http.md).
 */
import type { FastifyInstance } from 'fastify';
import type { DetectionAnswer, InferenceService } from './inference.js';
import { HttpError } from './errors.js';
import { checkDecodable, checkWindow, decodeBase64Image, describe, isObject, jsonBody } from './inputs.js';
import { clientGone, setErrorFormat } from './replies.js';

/** The old API's one documented validation message. */
export const WRONG_COUNT_MESSAGE = 'Se requieren exactamente 60 valores de temperatura';

/** Only JSON-typed bodies are validated by schema: other content types are parsed as JSON by the route. */
function jsonObjectBody(description: string) {
  return { content: { 'application/json': { schema: { type: 'object', description } } } };
}

/**
 * The old API ran behind an API Gateway proxy, so its clients send either the payload itself or the
 * proxy event around it: `{ "body": {...} }` or `{ "body": "<JSON text>" }`.
 */
function unwrap(body: unknown): Record<string, unknown> {
  let payload = jsonBody(body);
  if (isObject(payload) && 'body' in payload) payload = jsonBody(payload.body);
  if (!isObject(payload)) throw new HttpError(400, `the body must be a JSON object, got ${describe(payload)}`, {}, 'not_object');
  return payload;
}

/**
 * The old body: `objetos` held only intruder classes, and `detectado`/`total_objetos` described that
 * list (a client may loop `range(total_objetos)` over `objetos`), so both follow `objetos` here too.
 */
function compatDetection({ result }: DetectionAnswer) {
  const objetos = result.objects.map((o) => ({
    clase: o.class,
    confianza: o.confidence,
    bbox: [o.bbox.xmin, o.bbox.ymin, o.bbox.xmax, o.bbox.ymax],
  }));
  return { detectado: objetos.length > 0, intruso_detectado: result.intruder, objetos, total_objetos: objetos.length };
}

export function compatRoutes(inference: InferenceService) {
  const intruders = {
    schema: { body: jsonObjectBody('{ "image": base64 } or { "body": { "image": base64 } }') },
    onRequest: inference.refuseWhenFull('detect'),
  };
  const temperature = {
    schema: { body: jsonObjectBody('{ "temperaturas": [60 numbers] }') },
    onRequest: inference.refuseWhenFull('forecast'),
  };

  return async function register(app: FastifyInstance): Promise<void> {
    setErrorFormat(app, 'compat');

    app.post('/compat/intruders', intruders, async (request, reply) => {
      const payload = unwrap(request.body);
      if (!('image' in payload)) throw new HttpError(400, 'missing field image (a base64 JPEG or PNG)', {}, 'missing_image');
      const answer = await inference.detect(await checkDecodable(decodeBase64Image(payload.image, 'image')), clientGone(reply));
      return { statusCode: 200, body: compatDetection(answer) };
    });

    app.post('/compat/temperature', temperature, async (request, reply) => {
      const payload = unwrap(request.body);
      let values: number[];
      try {
        values = checkWindow(payload.temperaturas, 'temperaturas', inference.forecastWindow());
      } catch (err) {
        if (err instanceof HttpError && err.code === 'window_length') throw new HttpError(400, WRONG_COUNT_MESSAGE, {}, err.code);
        throw err;
      }
      const answer = await inference.forecast(values, clientGone(reply));
      return { statusCode: 200, body: { prediccion: answer.predicted_celsius, unidad: answer.contract.unit } };
    });
  };
}
