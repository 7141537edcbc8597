/**
 * Resolves once the current event-loop turn, its microtasks included, is over: what was queued with
 * setImmediate before runs first. The store commits the writes of a turn at its end (JobBatch), so
 * awaiting this makes them visible to other connections and to the relay.
 */
export const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
