/**
 * Request bodies to model inputs, shared by the /v1 and /compat routes. Every check throws an HttpError
 * (400, or 415 for a content type no route takes) whose message names the field and what is wrong with it.
 */
import { InvalidInputError } from '../../models/errors.js';
import { validateWindow } from '../../models/forecast.js';
import { decodePlan, DEFAULT_DECODE_BUDGET_BYTES, DEFAULT_MAX_PIXELS } from '../../models/image-input.js';
import { HttpError } from './errors.js';

export type ImageFormat = 'jpeg' | 'png' | 'webp';

export const IMAGE_CONTENT_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The format a buffer's magic bytes announce, or null. The decoder still rejects a broken file later. */
export function sniffImage(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 8 && Buffer.from(bytes.subarray(0, 8)).equals(PNG_SIGNATURE)) return 'png';
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'webp';
  return null;
}

function ascii(bytes: Uint8Array, from: number, to: number): string {
  return Buffer.from(bytes.subarray(from, to)).toString('latin1');
}

/** Image bytes that at least look like a supported format. */
export function checkImageBytes(bytes: Uint8Array, what: string): Uint8Array {
  if (bytes.length === 0) throw new HttpError(400, `${what} is empty`, {}, 'image_empty');
  if (sniffImage(bytes) === null) {
    const head = Buffer.from(bytes.subarray(0, 4)).toString('hex');
    throw new HttpError(400, `${what} is not a JPEG, PNG or WebP image (it starts with bytes ${head})`, {}, 'not_an_image');
  }
  return bytes;
}

/**
 * Refuses, before it waits in the queue, an image the detector would refuse for its size or its decode
 * cost (models/image-input.ts): reading the header takes well under a millisecond, and a flood of costly
 * images then takes no queue slot from anyone.
 */
export async function checkDecodable(bytes: Uint8Array): Promise<Uint8Array> {
  try {
    await decodePlan(bytes, DEFAULT_MAX_PIXELS, DEFAULT_DECODE_BUDGET_BYTES);
  } catch (err) {
    if (err instanceof InvalidInputError) throw new HttpError(400, err.message, {}, 'image_refused');
    throw err;
  }
  return bytes;
}

const DATA_URL = /^data:image\/[a-z+.-]+;base64,/i;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * Decodes a base64 (or base64url, or `data:image/...;base64,`) string strictly: Node's decoder silently
 * skips characters it does not know, which would turn garbage into a confusing "not an image" error.
 */
export function decodeBase64Image(value: unknown, field: string): Uint8Array {
  if (typeof value !== 'string') {
    throw new HttpError(400, `${field} must be a base64 string, got ${describe(value)}`, {}, 'image_type');
  }
  const text = value.replace(DATA_URL, '').replace(/\s+/g, '');
  if (!BASE64.test(text) || text.length % 4 === 1) {
    throw new HttpError(400, `${field} is not valid base64`, {}, 'bad_base64');
  }
  return checkImageBytes(Buffer.from(text, 'base64'), `the image decoded from ${field}`);
}

/**
 * A window of readings: exactly `length` plausible temperatures (the forecaster's own validation). A
 * wrong length has its own code: the old contract answers it with its one documented message.
 */
export function checkWindow(value: unknown, field: string, length: number): number[] {
  if (!Array.isArray(value) || value.length !== length) {
    throw new HttpError(400, `${field} must be an array of exactly ${length} numbers, got ${describe(value)}`, {}, 'window_length');
  }
  try {
    return validateWindow(value, length);
  } catch (err) {
    if (err instanceof InvalidInputError) throw new HttpError(400, `${field}: ${err.message}`, {}, 'window_value');
    throw err;
  }
}

/** A short description of a JSON value for error messages (never the whole value: it may be megabytes). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') return value.length > 20 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number') return String(value);
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** The body of a request whose route reads JSON, whatever content type old clients sent it with. */
export function jsonBody(body: unknown): unknown {
  if (Buffer.isBuffer(body) || typeof body === 'string') {
    const text = body.toString();
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new HttpError(400, 'the body is not valid JSON', {}, 'bad_json');
    }
  }
  return body;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}
