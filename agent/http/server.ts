/**
 * The local HTTP API (fastify): inference (/v1, its batch routes and the old contract under /compat), /health, /metrics
 * and the status page. `buildHttpApp` makes the app without listening (tests use `inject`);
 * `HttpServer` is the agent service that listens on `http.host:http.port`.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { Counter, Gauge } from 'prom-client';
import type { ComponentHealth, Service } from '../runtime/service.js';
import { registerAccessControl } from './access.js';
import { InferenceService } from './inference.js';
import { IMAGE_CONTENT_TYPES } from './inputs.js';
import { closeOnClientError, registerProtocolErrors } from './protocol-errors.js';
import { batchRoutes } from './routes-batch.js';
import { setErrorFormat } from './replies.js';
import { compatRoutes } from './routes-compat.js';
import { opsRoutes, type HealthSources } from './routes-ops.js';
import { statusRoutes } from './routes-status.js';
import { v1Routes } from './routes-v1.js';
import type { HttpServerDeps } from './types.js';

/** A slow or stalled client cannot hold a connection (and a body buffer) longer than this. */
const REQUEST_TIMEOUT_MS = 60_000;

function httpMetrics(deps: HttpServerDeps, inference: InferenceService) {
  const registers = [deps.metrics.registry];
  const requests = new Counter({
    name: 'edge_agent_http_requests_total',
    help: 'HTTP requests answered, by route and status code.',
    labelNames: ['route', 'status'] as const,
    registers,
  });
  const refused = new Counter({
    name: 'edge_agent_http_refused_total',
    help: 'HTTP requests refused before reaching a handler: forbidden, rate_limited.',
    labelNames: ['reason'] as const,
    registers,
  });
  new Gauge({
    name: 'edge_agent_http_queue_depth',
    help: 'Inference requests waiting in the HTTP queues.',
    labelNames: ['queue'] as const,
    registers,
    collect() {
      this.set({ queue: 'detection' }, inference.detectQueue.depth);
      this.set({ queue: 'forecast' }, inference.forecastQueue.depth);
    },
  });
  return { requests, refused };
}

export function buildHttpApp(deps: HttpServerDeps): FastifyInstance {
  const { config, logger } = deps;
  const now = deps.now ?? Date.now;
  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One log line per request would be most of the journal at 10 requests/s; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.http.body_limit_bytes,
    requestTimeout: REQUEST_TIMEOUT_MS,
    return503OnClosing: true,
    forceCloseConnections: true,
    clientErrorHandler: closeOnClientError,
    // Wrong types are errors, not values to coerce; unknown fields are rejected, not silently dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  // Raw images for /v1/intruders; anything else is kept as bytes so the old contract can read JSON sent
  // with any content type and /v1 can answer 415 with the list of what it takes.
  app.addContentTypeParser([...IMAGE_CONTENT_TYPES], { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  const inference = new InferenceService(deps.detector, deps.forecaster, config.http.max_queue, deps.bus);
  const counters = httpMetrics(deps, inference);
  app.addHook('onResponse', async (request, reply) => {
    counters.requests.inc({ route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });
  const rate = registerAccessControl(app, config.http, now, { onRefused: (reason) => counters.refused.inc({ reason }) });
  setErrorFormat(app, 'v1');
  registerProtocolErrors(app);

  const sources: HealthSources = {
    deviceId: config.device_id,
    health: deps.health,
    detector: deps.detector,
    forecaster: deps.forecaster,
    now,
  };
  void app.register(opsRoutes(sources, deps.metrics));
  void app.register(v1Routes(inference));
  void app.register(batchRoutes(inference, config.http, rate));
  void app.register(compatRoutes(inference));
  void app.register(statusRoutes(sources, deps.status, deps.scenes ?? []));
  return app;
}

export class HttpServer implements Service {
  readonly name = 'http';
  private app: FastifyInstance | null = null;
  private state: ComponentHealth = { state: 'disabled' };

  constructor(private readonly deps: HttpServerDeps) {}

  async start(): Promise<void> {
    const { http } = this.deps.config;
    if (!http.enabled) return;
    const app = buildHttpApp(this.deps);
    try {
      await app.listen({ host: http.host, port: http.port });
    } catch (err) {
      // Another process on the port must not take the whole agent down: report it in /health instead.
      this.state = { state: 'down', detail: `cannot listen on ${http.host}:${http.port}: ${(err as Error).message}` };
      this.deps.logger.error({ err }, 'HTTP server failed to start');
      await app.close();
      return;
    }
    this.app = app;
    this.state = { state: 'ok', url: this.url() };
    if (http.api_keys.length === 0 && !isLoopback(http.host)) {
      this.deps.logger.warn({ host: http.host }, 'HTTP API listens beyond this machine without API keys: set http.api_keys');
    }
    this.deps.logger.info({ url: this.url() }, 'HTTP server listening');
  }

  async stop(): Promise<void> {
    const app = this.app;
    this.app = null;
    if (app) await app.close();
    this.state = { state: 'disabled' };
  }

  health(): ComponentHealth {
    return this.state;
  }

  /** The address it listens on (the real port when `http.port` is 0). */
  url(): string | null {
    const address = this.app?.server.address();
    if (!address || typeof address === 'string') return null;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
