/**
 * Downloads a model into a file: https:// (TLS verified against the system roots plus an optional extra
 * CA, redirects followed but never to plain http) or file:// (a regular file on a disk). The sha256 is
 * computed while the bytes stream, the size limit is enforced before and during the transfer, the whole
 * transfer has a deadline (a server trickling a byte now and then must not hold the one-at-a-time update
 * queue for ever), and the file is fsynced before this resolves so that a later rename into the registry
 * cannot expose unwritten data after a power cut.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { request, type RequestOptions } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { rootCertificates, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { checkRegularFile, InputFileError } from '../lib/input-file.js';
import { truncate } from '../lib/quote.js';
import { redactUrl } from '../lib/redact-url.js';
import { isUntrustedServerCertCode } from '../lib/tls-errors.js';
import { OtaError } from './errors.js';

export interface FetchProgress {
  receivedBytes: number;
  /** null when the server did not announce a length. */
  totalBytes: number | null;
}

export interface FetchOptions {
  maxBytes: number;
  /** Time allowed to open the connection, TLS handshake included. */
  connectTimeoutMs: number;
  /** Longest silence allowed while waiting for the response or between two chunks of it. */
  readTimeoutMs: number;
  /** Longest the whole transfer may take, connection included. */
  deadlineMs: number;
  /** Extra CA certificates (PEM) trusted besides the system roots (a private mirror, a test server). */
  ca?: string | Buffer | null;
  onProgress?: (progress: FetchProgress) => void;
  signal?: AbortSignal;
}

export interface FetchResult {
  bytes: number;
  sha256: string;
}

const MAX_REDIRECTS = 5;
/** URLs in messages (redacted) are cut to this: a URL comes from whoever sent the update. */
const URL_CHARS = 256;

/** A URL as messages show it: without credentials or query, and not too long. */
function shown(url: string): string {
  return truncate(redactUrl(url), URL_CHARS);
}

/** Downloads `source` into `dest` (created, must not exist). On any failure `dest` is removed. */
export async function fetchToFile(source: string, dest: string, options: FetchOptions): Promise<FetchResult> {
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw new OtaError('unsupported_source', `invalid URL ${JSON.stringify(shown(source))}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'file:') {
    throw new OtaError('unsupported_source', `unsupported source ${shown(source)}: use https:// or file://`);
  }
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), options.deadlineMs);
  // Either stops the transfer: the updater's (the agent is stopping) or the deadline.
  const signal = options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal;
  const bounded = { ...options, signal };
  try {
    return url.protocol === 'https:' ? await fetchHttps(url, dest, bounded, MAX_REDIRECTS) : await fetchFile(url, dest, bounded);
  } catch (err) {
    await rm(dest, { force: true });
    if (deadline.signal.aborted && !options.signal?.aborted) {
      throw new OtaError('timeout', `the download did not finish within ${options.deadlineMs / 1000} s (ota.download_timeout_s)`);
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

async function fetchFile(url: URL, dest: string, options: FetchOptions): Promise<FetchResult> {
  const path = fileURLToPath(url);
  try {
    // A regular file on a disk: not a device, a FIFO, or /proc's files whose size says 0.
    await checkRegularFile(path);
  } catch (err) {
    if (err instanceof InputFileError) throw new OtaError('not_found', err.message);
    const code = (err as NodeJS.ErrnoException).code;
    throw new OtaError('not_found', `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const info = await stat(path);
  checkAnnouncedSize(info.size, options.maxBytes);
  return streamToFile(createReadStream(path, { signal: options.signal }), dest, info.size, options);
}

async function fetchHttps(url: URL, dest: string, options: FetchOptions, redirectsLeft: number): Promise<FetchResult> {
  const response = await get(url, options);
  const status = response.statusCode ?? 0;
  if (status >= 300 && status < 400 && response.headers.location) {
    response.resume();
    if (redirectsLeft === 0) throw new OtaError('http_error', `too many redirects from ${shown(url.href)}`);
    const next = new URL(response.headers.location, url);
    if (next.protocol !== 'https:') throw new OtaError('http_error', `refusing redirect from https to ${next.protocol} (${shown(next.href)})`);
    return fetchHttps(next, dest, options, redirectsLeft - 1);
  }
  if (status < 200 || status >= 300) {
    response.resume();
    throw new OtaError('http_error', `HTTP ${status} ${truncate(response.statusMessage ?? '', 64)}`.trimEnd() + ` from ${shown(url.href)}`);
  }
  const length = response.headers['content-length'];
  const total = length !== undefined && /^\d+$/.test(length) ? Number(length) : null;
  if (total !== null) checkAnnouncedSize(total, options.maxBytes);
  return streamToFile(response, dest, total, options);
}

/** Sends the GET and resolves with the response head, enforcing the connect and read timeouts. */
function get(url: URL, options: FetchOptions): Promise<IncomingMessage> {
  const host = url.host;
  const requestOptions: RequestOptions = {
    method: 'GET',
    headers: { 'user-agent': 'edge-agent-ota' },
    // A fresh connection per download: a pooled socket would skip the connect phase the timeout measures.
    agent: false,
    signal: options.signal,
    ...(options.ca ? { ca: [...rootCertificates, options.ca.toString()] } : {}),
  };
  return new Promise((resolve, reject) => {
    let response: IncomingMessage | null = null;
    const req = request(url, requestOptions, (res) => {
      response = res;
      resolve(res);
    });
    // Once the head has arrived, a stall must fail the body stream the caller is reading, not just the request.
    const fail = (err: OtaError) => (response ? response.destroy(err) : req.destroy(err));
    const connectTimer = setTimeout(() => {
      fail(new OtaError('timeout', `no connection to ${host} within ${options.connectTimeoutMs / 1000} s (ota.connect_timeout_s)`));
    }, options.connectTimeoutMs);
    req.once('socket', (socket: TLSSocket) => {
      socket.once('secureConnect', () => {
        clearTimeout(connectTimer);
        req.setTimeout(options.readTimeoutMs, () => {
          fail(new OtaError('timeout', `no data from ${host} for ${options.readTimeoutMs / 1000} s (ota.read_timeout_s)`));
        });
      });
    });
    req.on('error', (err) => {
      clearTimeout(connectTimer);
      reject(describeNetworkError(err, host));
    });
    req.once('close', () => clearTimeout(connectTimer));
    req.end();
  });
}

function describeNetworkError(err: Error, host: string): OtaError {
  if (err instanceof OtaError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (err.name === 'AbortError') return new OtaError('cancelled', 'download cancelled');
  if (isUntrustedServerCertCode(code)) {
    return new OtaError('tls_error', `TLS verification of ${host} failed: ${err.message} (set ota.ca to trust a private CA)`);
  }
  return new OtaError('network_error', `cannot download from ${host}: ${err.message}`);
}

function checkAnnouncedSize(size: number, maxBytes: number): void {
  if (size > maxBytes) throw new OtaError('too_large', `model is ${formatBytes(size)}, over the ${formatBytes(maxBytes)} limit (ota.max_bytes)`);
}

async function streamToFile(
  input: AsyncIterable<Buffer> & { destroy(error?: Error): void },
  dest: string,
  total: number | null,
  options: FetchOptions,
): Promise<FetchResult> {
  const hash = createHash('sha256');
  let received = 0;
  const file = await open(dest, 'wx');
  try {
    try {
      for await (const chunk of input) {
        received += chunk.length;
        if (received > options.maxBytes) {
          input.destroy();
          throw new OtaError('too_large', `download exceeded the ${formatBytes(options.maxBytes)} limit (ota.max_bytes)`);
        }
        hash.update(chunk);
        await file.write(chunk);
        options.onProgress?.({ receivedBytes: received, totalBytes: total });
      }
    } catch (err) {
      if (err instanceof OtaError) throw err;
      if (options.signal?.aborted) throw new OtaError('cancelled', 'download cancelled');
      if (total !== null && received < total) throw truncated(received, total);
      throw new OtaError('network_error', `download failed after ${received} bytes: ${(err as Error).message}`);
    }
    if (total !== null && received !== total) throw truncated(received, total);
    await file.sync();
  } finally {
    await file.close();
  }
  return { bytes: received, sha256: hash.digest('hex') };
}

function truncated(received: number, total: number): OtaError {
  return new OtaError('truncated', `download truncated: received ${received} of ${total} bytes`);
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} B`;
}
