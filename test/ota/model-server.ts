import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ServerResponse } from 'node:http';
import type { CertFiles } from '../helpers/pki.js';

/** How the test server answers one path. */
export type Route =
  | {
      kind: 'file';
      body: Buffer;
      /** Bytes per write (default 64 KB) and pause between writes, to make a download slow. */
      chunkSize?: number;
      chunkDelayMs?: number;
      /** Drop the connection after this many bytes (the announced length stays the full one). */
      truncateAt?: number;
      /** Stop sending after this many bytes and keep the connection open. */
      stallAfter?: number;
      /** Announced length: the body's by default, null for chunked encoding. */
      contentLength?: number | null;
    }
  | { kind: 'status'; status: number }
  | { kind: 'redirect'; location: string }
  /** Accepts the request and never answers. */
  | { kind: 'hang' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An HTTPS server on 127.0.0.1 (free port) that serves models the way a test needs, good or bad. */
export class ModelServer {
  private readonly routes = new Map<string, Route>();
  readonly requests: string[] = [];

  private constructor(private readonly server: Server) {}

  /** Serves with `certificate` (a TestPki's server() or selfSignedServer()). */
  static async start(certificate: CertFiles): Promise<ModelServer> {
    let self: ModelServer | null = null;
    const tls = { cert: readFileSync(certificate.cert), key: readFileSync(certificate.key) };
    const server = createServer(tls, (req, res) => void self?.handle(req.url ?? '/', res));
    self = new ModelServer(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return self;
  }

  url(path: string): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  route(path: string, route: Route): string {
    this.routes.set(path, route);
    return this.url(path);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(url: string, res: ServerResponse): Promise<void> {
    const path = url.split('?')[0] ?? url;
    this.requests.push(url);
    const route = this.routes.get(path);
    if (!route) return void res.writeHead(404, 'Not Found').end();
    switch (route.kind) {
      case 'status':
        return void res.writeHead(route.status).end();
      case 'redirect':
        return void res.writeHead(302, { location: route.location }).end();
      case 'hang':
        return;
      case 'file':
        return this.sendFile(route, res);
    }
  }

  private async sendFile(route: Extract<Route, { kind: 'file' }>, res: ServerResponse): Promise<void> {
    const length = route.contentLength === undefined ? route.body.length : route.contentLength;
    res.writeHead(200, length === null ? {} : { 'content-length': String(length) });
    const chunkSize = route.chunkSize ?? 64 * 1024;
    const end = Math.min(route.body.length, route.truncateAt ?? Infinity, route.stallAfter ?? Infinity);
    for (let offset = 0; offset < end && !res.destroyed; offset += chunkSize) {
      // Wait for each chunk to reach the socket, so a truncation drops the rest and not what was already sent.
      await new Promise((resolve) => res.write(route.body.subarray(offset, Math.min(offset + chunkSize, end)), resolve));
      if (route.chunkDelayMs) await sleep(route.chunkDelayMs);
    }
    if (route.truncateAt !== undefined) res.socket?.destroy();
    else if (route.stallAfter === undefined) res.end();
  }
}
