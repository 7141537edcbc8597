/**
 * Authentication and rate limiting, one `onRequest` hook for every route but those marked public
 * (`/health` and the status page's static files, which hold no data). Errors thrown here are formatted
 * by the route's own context, so the old contract's clients get its 403 and 429 bodies.
 *
 * Every request takes one token when it arrives, before its body is read. A batch route takes the rest
 * of its items' tokens once it has counted them (`RateCharge.takeMore`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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

/** More tokens for a request that already passed the `onRequest` hook. */
export interface RateCharge {
  /**
   * Takes `count` more tokens from the request's client, all or none: a 429 HttpError (with
   * Retry-After for all of them) when they are not there. Updates X-RateLimit-Remaining.
   */
  takeMore(request: FastifyRequest, reply: FastifyReply, count: number): void;
}

export function registerAccessControl(
  app: FastifyInstance,
  config: Pick<HttpConfig, 'api_keys' | 'rate_limit'>,
  now: () => number,
  events: AccessEvents = {},
): RateCharge {
  const keys = new ApiKeys(config.api_keys);
  const { enabled, per_second, burst } = config.rate_limit;
  const limiter = enabled ? new TokenBucketLimiter(per_second, burst, now) : null;
  /** Who each request in flight counts against, as the hook found it (so a batch is not authenticated twice). */
  const clients = new WeakMap<FastifyRequest, string>();

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

  /** Takes `count` tokens for `who`; throws the 429 when they are not all there. */
  function take(who: string, count: number, reply: FastifyReply): void {
    if (!limiter) return;
    const decision = limiter.take(who, count);
    const headers: Record<string, string> = {
      'x-ratelimit-limit': String(decision.limit),
      'x-ratelimit-remaining': String(decision.remaining),
    };
    if (!decision.allowed) {
      events.onRefused?.('rate_limited');
      const message = count === 1 ? 'too many requests' : `too many requests: a batch counts as one request per item, and the ${count} more it needs are not left`;
      throw new HttpError(429, message, { ...headers, 'retry-after': String(decision.retryAfterS) }, 'rate_limited');
    }
    void reply.headers(headers);
  }

  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.public) return;
    const who = client(request);
    clients.set(request, who);
    take(who, 1, reply);
  });

  return {
    takeMore(request, reply, count) {
      const who = clients.get(request);
      if (who === undefined) throw new Error('takeMore() on a request the access hook did not see');
      if (count > 0) take(who, count, reply);
    },
  };
}
