/**
 * The HTTP API served by a child process for the HTTP benchmarks (so the load does not share the
 * server's event loop): built as the daemon builds it, on 127.0.0.1 at a free port, with a given queue
 * depth, an API key and no rate limit; and the parent's side of that child (fork, ready, stop).
 */
import { fork, type ChildProcess, type ForkOptions } from 'node:child_process';
import { defaultConfig } from '../../agent/config/load.js';
import { AgentMetrics } from '../../agent/http/metrics.js';
import { HttpServer } from '../../agent/http/server.js';
import { silentLogger } from '../../agent/lib/log.js';
import { EventBus } from '../../agent/runtime/event-bus.js';
import { ModelSlot } from '../../agent/runtime/model-slot.js';
import type { Forecaster, IntruderDetector } from '../../models/types.js';

export const BENCH_KEY = 'bench-key-0123456789';

/** Starts the API over these models; resolves with the server and its port. Stops it when the parent disconnects. */
export async function serveApi(detector: IntruderDetector, forecaster: Forecaster, maxQueue: number): Promise<{ server: HttpServer; port: number }> {
  const bus = new EventBus(silentLogger());
  const base = defaultConfig().http;
  const server = new HttpServer({
    config: {
      device_id: 'bench',
      http: { ...base, enabled: true, host: '127.0.0.1', port: 0, api_keys: [BENCH_KEY], max_queue: maxQueue, rate_limit: { ...base.rate_limit, enabled: false } },
    },
    detector: new ModelSlot<IntruderDetector>(detector),
    forecaster: new ModelSlot<Forecaster>(forecaster),
    health: () => ({ components: {} }),
    status: {
      validReadingsSince: () => [],
      forecastsSince: () => [],
      recentDetections: () => [],
      scores: { scoredSince: () => [], summary: () => ({ scored: 0, model_mae: null, persistence_mae: null, served_mae: null }) },
    },
    metrics: new AgentMetrics({ bus }),
    bus,
    logger: silentLogger(),
  });
  await server.start();
  process.on('disconnect', () => void server.stop().then(() => process.exit(0)));
  return { server, port: Number(new URL(server.url()!).port) };
}

/** Forks `script` with `args`; resolves with the child and the first message it sends (what it is ready with). */
export function forkServer<T>(script: string, args: string[], options: ForkOptions = {}): Promise<{ child: ChildProcess; ready: T }> {
  const child = fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], ...options });
  return new Promise((resolveReady, reject) => {
    child.once('message', (ready) => resolveReady({ child, ready: ready as T }));
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code} before it was ready`)));
  });
}

/** Disconnects the child (it stops its server and exits) and waits for it to exit. */
export async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((done) => child.once('exit', done));
  child.disconnect();
  await exited;
}
