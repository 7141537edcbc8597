/**
 * Authentication and rate limiting, one `onRequest` hook for every route but those marked public
 * (`/health` and the status page's static files, which hold no data). Errors thrown here are formatted
 * by the route's own context, so the old contract's clients get its 403 and 429 bodies.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { HttpConfig } from '../config/types.js';
import { ApiKeys, presentedKey } from './auth.js';
import { HttpError } from './errors.js';
import { TokenBucketLimiter } from './rate-limit.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without an API key and without rate limiting. */
    public?: boolean;
  }
}

export interface AccessEvents {
  /** A request was refused: `forbidden` (no or wrong key) or `rate_limited`. */
  onRefused?: (reason: 'forbidden' | 'rate_limited') => void;
}

export function registerAccessControl(
  app: FastifyInstance,
  config: Pick<HttpConfig, 'api_keys' | 'rate_limit'>,
  now: () => number,
  events: AccessEvents = {},
): void {
  const keys = new ApiKeys(config.api_keys);
  const { enabled, per_second, burst } = config.rate_limit;
  const limiter = enabled ? new TokenBucketLimiter(per_second, burst, now) : null;

  /** Who the request counts against: the key's index (never the key), or the address without keys. */
  function client(request: FastifyRequest): string {
    if (!keys.required) return `ip:${request.ip}`;
    const key = presentedKey(request.headers);
    const index = key === null ? -1 : keys.match(key);
    if (index < 0) {
      events.onRefused?.('forbidden');
      const why = key === null ? 'missing API key' : 'invalid API key';
      throw new HttpError(403, `${why}: send a configured key in the x-api-key header`, {}, 'forbidden');
    }
    return `key:${index}`;
  }

  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.public) return;
    const who = client(request);
    if (!limiter) return;
    const decision = limiter.take(who);
    const headers: Record<string, string> = {
      'x-ratelimit-limit': String(decision.limit),
      'x-ratelimit-remaining': String(decision.remaining),
    };
    if (!decision.allowed) {
      events.onRefused?.('rate_limited');
      throw new HttpError(429, 'too many requests', { ...headers, 'retry-after': String(decision.retryAfterS) }, 'rate_limited');
    }
    void reply.headers(headers);
  });
}
