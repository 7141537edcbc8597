/**
 * Which broker the relay tries next when `mqtt.url` lists several (failover).
 *
 * mqtt.js has a `servers` option, but it moves to the next server at every reconnect of its own, with
 * its fixed `reconnectPeriod` in between and no notion of "every broker failed": the relay switches
 * that reconnect off and makes a fresh client per attempt (see relay.ts), so it keeps its place in the
 * list here instead:
 * - it stays on a broker as long as the connection lasts (no failback to the first one: moving would
 *   drop a working connection, and subscribers must follow the device to whichever broker it uses);
 * - after a drop it tries the same broker once more (a blip, a broker restart), then the next ones,
 *   one right after another, so a dead broker costs one failed attempt, not a backoff delay;
 * - only when every broker has failed in a row does the caller back off before the next round.
 * With a single URL every failure ends a round: exactly the relay's backoff without failover.
 */
export class BrokerRotation {
  private index = 0;
  /** Attempts failed in a row since the last connection. */
  private failuresInRow = 0;

  constructor(private readonly urls: readonly string[]) {
    if (urls.length === 0) throw new RangeError('BrokerRotation needs at least one broker URL');
  }

  /** The broker of the next attempt, or of the connection in use. */
  get current(): string {
    return this.urls[this.index]!;
  }

  get size(): number {
    return this.urls.length;
  }

  /** How a log line names the next attempt: `retrying` with one broker, else `trying <its URL>`. */
  nextAttempt(show: (url: string) => string): string {
    return this.urls.length > 1 ? `trying ${show(this.current)}` : 'retrying';
  }

  /** The attempt on `current` connected. */
  connected(): void {
    this.failuresInRow = 0;
  }

  /**
   * The attempt on `current` failed: moves to the next broker. Returns true when every broker has now
   * failed in a row (the caller backs off before trying again), false when the next one is to be tried
   * at once.
   */
  failed(): boolean {
    this.index = (this.index + 1) % this.urls.length;
    this.failuresInRow++;
    if (this.failuresInRow < this.urls.length) return false;
    this.failuresInRow = 0;
    return true;
  }
}
