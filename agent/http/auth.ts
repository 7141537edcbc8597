/**
 * API keys. Comparison is constant-time: both sides are hashed to 32 bytes first, so neither the
 * content nor the length of a configured key leaks through response timing, and every configured key is
 * compared (no early exit on the first match).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export class ApiKeys {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.map(digest);
  }

  /** With no key configured, authentication is off (the demo on 127.0.0.1). */
  get required(): boolean {
    return this.digests.length > 0;
  }

  /**
   * The index of the configured key that `presented` equals, or -1. The index (never the key itself)
   * names the client for rate limiting and logs.
   */
  match(presented: string): number {
    const candidate = digest(presented);
    let found = -1;
    this.digests.forEach((known, index) => {
      if (timingSafeEqual(known, candidate) && found < 0) found = index;
    });
    return found;
  }
}

/**
 * The key a request presents: `x-api-key` (the old API's header), or `Authorization: Bearer <key>`
 * (what Prometheus' scrape config can send).
 */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | null {
  const header = headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (bearer?.[1]) return bearer[1];
  }
  return null;
}
