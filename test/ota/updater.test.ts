import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtaError } from '../../agent/ota/errors.js';
import { downloadDeadlineMs } from '../../agent/ota/setup.js';
import type { UpdateRequest, UpdateStage } from '../../agent/ota/updater.js';
import { generateSigningKeys, loadPublicKey, signManifest } from '../../agent/ota/verify.js';
import { readFileSync } from 'node:fs';
import { shippedModelPath } from '../../agent/lib/paths.js';
import { averagingModel, FORECAST_CONTRACT } from './tiny-models.js';
import { intruderModel, OtaHarness, sha256 } from './harness.js';

const goodSha = sha256(intruderModel);

describe('ModelUpdater: a good update', () => {
  let h: OtaHarness;
  beforeAll(async () => {
    h = await OtaHarness.start();
  });
  afterAll(() => h.close());

  it('downloads, validates, activates and hot-swaps while the old model keeps answering', async () => {
    await h.updater.update({ role: 'intruder', version: '1', url: h.serveIntruder('/v1/yolov8n-int8.onnx'), sha256: goodSha });
    const old = h.intruderSlot.current();
    expect(old?.info.version).toBe('1');

    const stages: UpdateStage[] = [];
    let duringValidation: Promise<{ version: string; classes: string[] }> | null = null;
    const active = await h.updater.update({ role: 'intruder', version: '2', url: h.serveIntruder('/v2/yolov8n-int8.onnx'), sha256: goodSha }, (p) => {
      if (stages.at(-1) !== p.stage) stages.push(p.stage);
      // The pipeline keeps running while the new session is loaded and tried.
      if (p.stage === 'validating') duringValidation = h.probeIntruder();
    });

    expect(stages).toEqual(['downloading', 'verifying', 'installing', 'validating', 'activating']);
    expect(await duringValidation).toEqual({ version: '1', classes: ['dog'] });
    expect(active.manifest).toMatchObject({ name: 'yolov8n-int8', version: '2', sha256: goodSha, size: intruderModel.length });
    expect(active.manifest.source).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/v2\/yolov8n-int8\.onnx$/);
    expect(active.previous).toEqual(['1']);
    expect(await h.probeIntruder()).toEqual({ version: '2', classes: ['dog'] });
    expect((await h.registry.active('intruder'))?.manifest.version).toBe('2');
    // The replaced session was released once its last run ended.
    await expect(old!.detect(new Uint8Array(10))).rejects.toThrow(/closed/);
    expect(h.leftoverDownloads()).toEqual([]);
  });

  it('skips the download when the same version and bytes are already installed (a retried update)', async () => {
    const before = h.server.requests.length;
    await h.updater.update({ role: 'intruder', version: '1', url: h.serveIntruder('/again.onnx'), sha256: goodSha });
    expect(h.server.requests.length).toBe(before);
    expect(h.intruderSlot.current()?.info.version).toBe('1');
  });

  it('rolls back to the previously active version and reloads it', async () => {
    await h.updater.update({ role: 'intruder', version: '3', url: h.serveIntruder('/v3.onnx'), sha256: goodSha });
    expect((await h.updater.rollback('intruder')).manifest.version).toBe('1');
    expect(h.intruderSlot.current()?.info.version).toBe('1');
    expect((await h.registry.active('intruder'))?.manifest.version).toBe('1');
  });

  it('activates an installed version on request and refuses an unknown one', async () => {
    expect((await h.updater.activate('intruder', '3')).manifest.version).toBe('3');
    expect(h.intruderSlot.current()?.info.version).toBe('3');
    await expect(h.updater.activate('intruder', '42')).rejects.toMatchObject({ code: 'invalid_request', message: 'intruder version 42 is not installed' });
  });

  it('runs concurrent updates one after the other', async () => {
    const a = h.updater.update({ role: 'intruder', version: '4', url: h.serveIntruder('/v4.onnx'), sha256: goodSha });
    const b = h.updater.update({ role: 'intruder', version: '5', url: h.serveIntruder('/v5.onnx'), sha256: goodSha });
    await Promise.all([a, b]);
    expect(h.intruderSlot.current()?.info.version).toBe('5');
    expect((await h.registry.active('intruder'))?.previous).toEqual(['4', '3']);
    // keep_versions 2: the active one and two rollback targets remain.
    expect((await h.registry.list('intruder')).map((m) => m.manifest.version).sort()).toEqual(['3', '4', '5']);
  });
});

describe('ModelUpdater: every rejected update leaves the old model serving', () => {
  let h: OtaHarness;
  const keys = generateSigningKeys();
  beforeAll(async () => {
    h = await OtaHarness.start({ maxBytes: 5 * 1024 * 1024, readTimeoutMs: 300, publicKey: loadPublicKey(keys.publicKey) });
    const request = { role: 'intruder', version: '1', url: h.serveIntruder('/v1.onnx'), sha256: goodSha };
    await h.updater.update({ ...request, signature: signManifest(keys.privateKey, request) });
  });
  afterAll(() => h.close());

  const junk = randomBytes(4096);
  const notADetector = averagingModel();
  const signed = (r: UpdateRequest): UpdateRequest => ({ ...r, signature: signManifest(keys.privateKey, r) });

  const cases: { name: string; code: string; message: RegExp; request: () => UpdateRequest }[] = [
    {
      name: 'a checksum that does not match',
      code: 'checksum_mismatch',
      message: /^sha256 mismatch: expected 0{64}, the downloaded file has [0-9a-f]{64}$/,
      request: () => signed({ role: 'intruder', version: '2', url: h.serveIntruder('/c.onnx'), sha256: '0'.repeat(64) }),
    },
    {
      name: 'a missing signature',
      code: 'signature_missing',
      message: /not signed/,
      request: () => ({ role: 'intruder', version: '2', url: h.serveIntruder('/s.onnx'), sha256: goodSha }),
    },
    {
      name: 'a signature of another version',
      code: 'signature_invalid',
      message: /signature does not match \{"role":"intruder","sha256":"[0-9a-f]{64}","version":"2"\}/,
      request: () => ({ ...signed({ role: 'intruder', version: '9', url: h.serveIntruder('/s.onnx'), sha256: goodSha }), version: '2' }),
    },
    {
      name: 'a truncated download',
      code: 'truncated',
      message: /^download truncated: received \d+ of 3504119 bytes$/,
      request: () => signed({ role: 'intruder', version: '2', url: h.server.route('/t.onnx', { kind: 'file', body: intruderModel, truncateAt: 500_000 }), sha256: goodSha }),
    },
    {
      name: 'a file that is not ONNX',
      code: 'invalid_model',
      message: /^not a usable intruder model: not (an|a loadable) ONNX model/,
      request: () => signed({ role: 'intruder', version: '2', url: h.server.route('/junk.onnx', { kind: 'file', body: junk }), sha256: sha256(junk) }),
    },
    {
      name: 'a model of the wrong role (a 60-value regressor offered as detector)',
      code: 'invalid_model',
      message: /^not a usable intruder model: .*expected input float32 \[1, 3, H, W\], got float32 \[1, 60\]/,
      request: () => signed({ role: 'intruder', version: '2', url: h.server.route('/avg.onnx', { kind: 'file', body: notADetector }), sha256: sha256(notADetector) }),
    },
    {
      name: 'HTTP 404',
      code: 'http_error',
      message: /^HTTP 404 Not Found from https:\/\/127\.0\.0\.1:\d+\/missing\.onnx$/,
      request: () => signed({ role: 'intruder', version: '2', url: h.server.url('/missing.onnx'), sha256: goodSha }),
    },
    {
      name: 'HTTP 500',
      code: 'http_error',
      message: /^HTTP 500 Internal Server Error from/,
      request: () => signed({ role: 'intruder', version: '2', url: h.server.route('/500.onnx', { kind: 'status', status: 500 }), sha256: goodSha }),
    },
    {
      name: 'a server that stops sending',
      code: 'timeout',
      message: /^no data from 127\.0\.0\.1:\d+ for 0\.3 s \(ota\.read_timeout_s\)$/,
      request: () => signed({ role: 'intruder', version: '2', url: h.server.route('/stall.onnx', { kind: 'file', body: intruderModel, stallAfter: 100_000 }), sha256: goodSha }),
    },
    {
      name: 'a model over the size limit',
      code: 'too_large',
      message: /^model is 6\.7 MB, over the 5\.0 MB limit \(ota\.max_bytes\)$/,
      request: () => signed({ role: 'intruder', version: '2', url: h.server.route('/big.onnx', { kind: 'file', body: Buffer.concat([intruderModel, intruderModel]) }), sha256: goodSha }),
    },
    {
      name: 'a plain http URL',
      code: 'unsupported_source',
      message: /use https:\/\/ or file:\/\//,
      request: () => signed({ role: 'intruder', version: '2', url: 'http://127.0.0.1:9/model.onnx', sha256: goodSha }),
    },
    {
      name: 'other bytes under an installed version',
      code: 'invalid_request',
      message: /^intruder version 1 is already installed with sha256 [0-9a-f]{64}; give the new file another version$/,
      request: () => signed({ role: 'intruder', version: '1', url: h.server.route('/other.onnx', { kind: 'file', body: junk }), sha256: sha256(junk) }),
    },
    {
      name: 'an unknown role',
      code: 'invalid_request',
      message: /^unknown model role "camera"/,
      request: () => ({ role: 'camera', version: '2', url: h.serveIntruder('/r.onnx'), sha256: goodSha }),
    },
    {
      name: 'a version that cannot be a folder name',
      code: 'invalid_request',
      message: /^invalid version "\.\.\/x"/,
      request: () => ({ role: 'intruder', version: '../x', url: h.serveIntruder('/r.onnx'), sha256: goodSha }),
    },
  ];

  it.each(cases)('rejects $name with its reason', async ({ code, message, request }) => {
    const error = await h.updater.update(request()).then(
      () => null,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(OtaError);
    expect(error).toMatchObject({ code });
    expect((error as OtaError).message).toMatch(message);
    expect(await h.probeIntruder()).toEqual({ version: '1', classes: ['dog'] });
    expect((await h.registry.active('intruder'))?.manifest.version).toBe('1');
    expect((await h.registry.list('intruder')).map((m) => m.manifest.version)).toEqual(['1']);
    expect(h.leftoverDownloads()).toEqual([]);
  });

  it('accepts the same update once it is correctly signed', async () => {
    const request = signed({ role: 'intruder', version: '2', url: h.serveIntruder('/ok.onnx'), sha256: goodSha });
    expect((await h.updater.update(request)).manifest.signature).toBe(request.signature);
    expect(h.intruderSlot.current()?.info.version).toBe('2');
  });
});

describe('ModelUpdater: the forecast role', () => {
  let h: OtaHarness;
  const shipped = readFileSync(shippedModelPath('temperature-forecast.onnx'));
  const flatHour = new Array<number>(60).fill(21.5);
  beforeAll(async () => {
    h = await OtaHarness.start();
  });
  afterAll(() => h.close());

  const serve = (path: string, body: Buffer, version: string) => ({ role: 'forecast', version, url: h.server.route(path, { kind: 'file', body }), sha256: sha256(body) });

  it('swaps the forecaster and reports the registry name and version', async () => {
    await h.updater.update(serve('/temperature-forecast.onnx', shipped, '1.0.0'));
    const naive = averagingModel({ ...FORECAST_CONTRACT, name: 'metadata-name' });
    await h.updater.update({ ...serve('/naive-mean.onnx', naive, '2.0.0'), name: 'naive-mean' });
    const model = h.forecastSlot.current();
    expect(model?.info).toMatchObject({ name: 'naive-mean', version: '2.0.0', sha256: sha256(naive) });
    expect(await h.forecastSlot.use((m) => m.forecast(flatHour))).toBe(21.5);
  });

  it.each([
    { what: 'a detector offered as forecaster', body: () => intruderModel, reason: /^not a usable forecast model: no forecaster contract in the ONNX metadata/ },
    { what: 'a forecaster without its contract metadata', body: () => averagingModel(), reason: /missing window, step_s, horizon_s, unit/ },
    { what: 'a forecaster exported without its output scaling', body: () => averagingModel(FORECAST_CONTRACT, 0.01), reason: /^forecast model 3 predicts 0\.2 °C after a flat hour at 20 °C/ },
  ])('refuses $what and keeps forecasting', async ({ body, reason }) => {
    const error = await h.updater.update(serve('/bad.onnx', body(), '3')).then(() => null, (err: unknown) => err);
    expect(error).toMatchObject({ code: 'invalid_model', message: expect.stringMatching(reason) });
    expect(h.forecastSlot.current()?.info.version).toBe('2.0.0');
    expect(await h.forecastSlot.use((m) => m.forecast(flatHour))).toBe(21.5);
  });
});

describe('ModelUpdater: a download that never ends', () => {
  let h: OtaHarness;
  beforeAll(async () => {
    h = await OtaHarness.start({ readTimeoutMs: 5_000, deadlineMs: 1_500 });
  });
  afterAll(() => h.close());

  it('is cut at its deadline, and the update queued behind it runs', async () => {
    // One byte every 100 ms: always within the read timeout, done in about four days.
    const trickle = h.server.route('/trickle.onnx', { kind: 'file', body: intruderModel, chunkSize: 1, chunkDelayMs: 100 });
    const slow = h.updater.update({ role: 'intruder', version: 'slow', url: trickle, sha256: goodSha }).then(() => null, (err: unknown) => err);
    const next = h.updater.update({ role: 'intruder', version: 'next', url: h.serveIntruder('/next.onnx'), sha256: goodSha });
    expect(await slow).toMatchObject({ code: 'timeout', message: 'the download did not finish within 1.5 s (ota.download_timeout_s)' });
    expect((await next).manifest.version).toBe('next');
    expect(h.leftoverDownloads()).toEqual([]);
  });

  it('has a default deadline from the size limit at 128 KB/s, never under a minute', () => {
    expect(downloadDeadlineMs({ download_timeout_s: null, max_bytes: 200 * 1024 * 1024 })).toBe(1_600_000);
    expect(downloadDeadlineMs({ download_timeout_s: null, max_bytes: 1024 * 1024 })).toBe(60_000);
    expect(downloadDeadlineMs({ download_timeout_s: 30, max_bytes: 200 * 1024 * 1024 })).toBe(30_000);
  });
});

describe('ModelUpdater: names', () => {
  let h: OtaHarness;
  beforeAll(async () => {
    h = await OtaHarness.start();
  });
  afterAll(() => h.close());

  it('refuses a name that cannot be shown, and cleans one taken from the URL', async () => {
    const url = h.serveIntruder('/%0Aevil%2F..%00name.onnx');
    const refused = await h.updater.install({ role: 'intruder', version: 'n1', url, sha256: goodSha, name: 'a/../b' }).then(() => null, (err: unknown) => err);
    expect(refused).toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/^invalid model name "a\/..\/b"/) });
    const installed = await h.updater.install({ role: 'intruder', version: 'n2', url, sha256: goodSha });
    expect(installed.manifest.name).toBe('-evil-..-name');
  });
});
