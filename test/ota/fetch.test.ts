import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchToFile, type FetchOptions, type FetchProgress } from '../../agent/ota/fetch.js';
import { OtaError } from '../../agent/ota/errors.js';
import { fixture } from '../helpers/fixtures.js';
import { ModelServer } from './model-server.js';
import { TestPki } from '../helpers/pki.js';

const modelPath = fixture('models/yolov8n-int8.onnx');
const model = readFileSync(modelPath);
const modelSha = createHash('sha256').update(model).digest('hex');

let pki: TestPki;
let server: ModelServer;
let selfSigned: ModelServer;
let dir: string;
let n = 0;

beforeAll(async () => {
  pki = TestPki.create();
  server = await ModelServer.start(pki.server());
  selfSigned = await ModelServer.start(pki.selfSignedServer());
  dir = mkdtempSync(join(tmpdir(), 'ota-fetch-'));
});

afterAll(async () => {
  await server?.close();
  await selfSigned?.close();
  pki?.remove();
  rmSync(dir, { recursive: true, force: true });
});

function options(extra: Partial<FetchOptions> = {}): FetchOptions {
  return { maxBytes: 10 * 1024 * 1024, connectTimeoutMs: 2000, readTimeoutMs: 2000, deadlineMs: 120_000, ca: pki.caPem, ...extra };
}

const dest = () => join(dir, `download-${++n}.part`);

async function failure(source: string, opts: FetchOptions): Promise<{ error: OtaError; dest: string }> {
  const target = dest();
  const error = await fetchToFile(source, target, opts).then(
    () => {
      throw new Error(`download of ${source} should have failed`);
    },
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(OtaError);
  expect(existsSync(target)).toBe(false);
  return { error: error as OtaError, dest: target };
}

describe('fetchToFile over https', () => {
  it('downloads a model from a server signed by the extra CA, hashing it and reporting progress', async () => {
    const url = server.route('/ok/model.onnx', { kind: 'file', body: model });
    const progress: FetchProgress[] = [];
    const target = dest();
    const result = await fetchToFile(url, target, options({ onProgress: (p) => progress.push(p) }));
    expect(result).toEqual({ bytes: model.length, sha256: modelSha });
    expect(readFileSync(target).equals(model)).toBe(true);
    expect(progress.length).toBeGreaterThan(2);
    expect(progress.at(-1)).toEqual({ receivedBytes: model.length, totalBytes: model.length });
    expect(progress.every((p, i) => i === 0 || p.receivedBytes > (progress[i - 1] as FetchProgress).receivedBytes)).toBe(true);
  });

  it('follows https redirects (release downloads, pre-signed URLs) but refuses a downgrade to http', async () => {
    server.route('/real.onnx', { kind: 'file', body: model });
    const url = server.route('/latest.onnx', { kind: 'redirect', location: '/real.onnx' });
    expect((await fetchToFile(url, dest(), options())).sha256).toBe(modelSha);

    const insecure = server.route('/insecure.onnx', { kind: 'redirect', location: 'http://127.0.0.1:1/model.onnx' });
    const { error } = await failure(insecure, options());
    expect(error.code).toBe('http_error');
    expect(error.message).toMatch(/refusing redirect from https to http:/);
  });

  it('refuses a server whose certificate no trusted CA signed', async () => {
    const url = selfSigned.route('/model.onnx', { kind: 'file', body: model });
    const { error } = await failure(url, options());
    expect(error.code).toBe('tls_error');
    expect(error.message).toMatch(/TLS verification of 127\.0\.0\.1:\d+ failed/);
  });

  it('refuses the private CA server when ota.ca is not given (system roots only)', async () => {
    const url = server.route('/ok2/model.onnx', { kind: 'file', body: model });
    const { error } = await failure(url, options({ ca: null }));
    expect(error.code).toBe('tls_error');
  });

  it.each([404, 500])('reports HTTP %i with the status and a URL stripped of its query string', async (status) => {
    const url = server.route(`/status-${status}.onnx`, { kind: 'status', status });
    const { error } = await failure(`${url}?X-Amz-Signature=secret`, options());
    expect(error.code).toBe('http_error');
    expect(error.message).toMatch(new RegExp(`^HTTP ${status} .*from https://127\\.0\\.0\\.1:\\d+/status-${status}\\.onnx$`));
    expect(error.message).not.toContain('secret');
  });

  it('rejects a connection dropped before the announced length', async () => {
    const url = server.route('/truncated.onnx', { kind: 'file', body: model, truncateAt: 1_000_000 });
    const { error } = await failure(url, options());
    expect(error.code).toBe('truncated');
    expect(error.message).toMatch(new RegExp(`received \\d+ of ${model.length} bytes`));
  });

  it('rejects an announced length over the limit before reading the body', async () => {
    const url = server.route('/huge.onnx', { kind: 'file', body: model });
    const { error } = await failure(url, options({ maxBytes: 1024 * 1024 }));
    expect(error.code).toBe('too_large');
    expect(error.message).toBe('model is 3.3 MB, over the 1.0 MB limit (ota.max_bytes)');
  });

  it('stops a body without announced length once it passes the limit', async () => {
    const url = server.route('/chunked.onnx', { kind: 'file', body: model, contentLength: null });
    const progress: FetchProgress[] = [];
    const { error } = await failure(url, options({ maxBytes: 1024 * 1024, onProgress: (p) => progress.push(p) }));
    expect(error.code).toBe('too_large');
    expect(progress.at(-1)?.totalBytes).toBeNull();
    expect(progress.at(-1)?.receivedBytes).toBeLessThanOrEqual(1024 * 1024);
  });

  it('times out when the body stalls (read timeout)', async () => {
    const url = server.route('/stall.onnx', { kind: 'file', body: model, stallAfter: 200_000 });
    const started = Date.now();
    const { error } = await failure(url, options({ readTimeoutMs: 300 }));
    expect(error.code).toBe('timeout');
    expect(error.message).toMatch(/no data from 127\.0\.0\.1:\d+ for 0\.3 s \(ota\.read_timeout_s\)/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('times out when the response head never comes', async () => {
    const url = server.route('/hang.onnx', { kind: 'hang' });
    const { error } = await failure(url, options({ readTimeoutMs: 300 }));
    expect(error.code).toBe('timeout');
  });

  it('times out when the TLS handshake never completes (connect timeout)', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as { port: number }).port;
      const { error } = await failure(`https://127.0.0.1:${port}/model.onnx`, options({ connectTimeoutMs: 300 }));
      expect(error.code).toBe('timeout');
      expect(error.message).toMatch(/no connection to 127\.0\.0\.1:\d+ within 0\.3 s \(ota\.connect_timeout_s\)/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('reports a refused connection as a network error', async () => {
    const silent = createServer();
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    await new Promise((resolve) => silent.close(resolve));
    const { error } = await failure(`https://127.0.0.1:${port}/model.onnx`, options());
    expect(error.code).toBe('network_error');
    expect(error.message).toMatch(/ECONNREFUSED/);
  });

  it('cuts a download that trickles (each byte within the read timeout) at its overall deadline', async () => {
    const url = server.route('/trickle.onnx', { kind: 'file', body: model, chunkSize: 1, chunkDelayMs: 50 });
    const { error } = await failure(url, options({ readTimeoutMs: 2_000, deadlineMs: 700 }));
    expect(error.code).toBe('timeout');
    expect(error.message).toBe('the download did not finish within 0.7 s (ota.download_timeout_s)');
  });

  it('quotes a long URL only in part', async () => {
    const url = server.url(`/${'p'.repeat(8_000)}.onnx`);
    const { error } = await failure(url, options());
    expect(error.code).toBe('http_error');
    expect(error.message).toMatch(/^HTTP 404 Not Found from https:\/\/127\.0\.0\.1:\d+\/p+…$/);
    expect(error.message.length).toBeLessThan(300);
  });

  it('can be cancelled mid-download', async () => {
    const url = server.route('/slow.onnx', { kind: 'file', body: model, chunkDelayMs: 20 });
    const controller = new AbortController();
    const opts = options({ signal: controller.signal, onProgress: (p) => p.receivedBytes > 200_000 && controller.abort() });
    const { error } = await failure(url, opts);
    expect(error.code).toBe('cancelled');
  });
});

describe('fetchToFile from file:// and other sources', () => {
  it('copies a local file, hashing it', async () => {
    const target = dest();
    const result = await fetchToFile(pathToFileURL(modelPath).href, target, options());
    expect(result).toEqual({ bytes: model.length, sha256: modelSha });
    expect(readFileSync(target).equals(model)).toBe(true);
  });

  it('names a missing file', async () => {
    const { error } = await failure(pathToFileURL(join(dir, 'missing.onnx')).href, options());
    expect(error.code).toBe('not_found');
    expect(error.message).toMatch(/missing\.onnx: no such file/);
  });

  it('applies the size limit to local files too', async () => {
    const { error } = await failure(pathToFileURL(modelPath).href, options({ maxBytes: 1000 }));
    expect(error.code).toBe('too_large');
  });

  it('refuses what is not a regular file on a disk, naming what it is', async () => {
    // /proc's files say they are empty: the copy then looked "truncated".
    const environ = await failure('file:///proc/self/environ', options());
    expect(environ.error).toMatchObject({ code: 'not_found', message: '/proc/self/environ is on proc, a virtual filesystem of the kernel, not a file on a disk' });
    const zero = await failure('file:///dev/zero', options());
    expect(zero.error).toMatchObject({ code: 'not_found', message: '/dev/zero is a character device, not a regular file' });
  });

  it.each(['http://127.0.0.1/model.onnx', 's3://bucket/model.onnx', 'not a url'])('refuses %s', async (source) => {
    const { error } = await failure(source, options());
    expect(error.code).toBe('unsupported_source');
  });
});
