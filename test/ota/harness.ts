import { createHash, type KeyObject } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../agent/lib/log.js';
import { ModelSlot } from '../../agent/runtime/model-slot.js';
import { ModelUpdater } from '../../agent/ota/updater.js';
import type { ModelLoaders } from '../../agent/ota/validate.js';
import { generateSigningKeys, signManifest, type SignedManifest } from '../../agent/ota/verify.js';
import { loadForecaster } from '../../models/forecast.js';
import { loadIntruderDetector } from '../../models/intruder.js';
import { ModelRegistry } from '../../agent/ota/registry.js';
import type { Forecaster, IntruderDetector } from '../../models/types.js';
import { fixture } from '../helpers/fixtures.js';
import { ModelServer } from './model-server.js';
import { TestPki } from '../helpers/pki.js';

export const intruderModelPath = fixture('models/yolov8n-int8.onnx');
export const intruderModel = readFileSync(intruderModelPath);
export const dogImage = readFileSync(fixture('images/dog.jpg'));

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The real loaders, on one thread: the machine running the suite is shared. */
export const testLoaders: ModelLoaders = {
  intruder: (path, identity) => loadIntruderDetector(path, { ...identity, threads: 1 }),
  forecast: (path, identity) => loadForecaster(path, { ...identity }),
};

export interface HarnessOptions {
  publicKey?: KeyObject | null;
  maxBytes?: number;
  readTimeoutMs?: number;
  /** Deadline of a whole download (default 2 minutes: longer than any test's download on a loaded machine). */
  deadlineMs?: number;
}

/**
 * A data dir, an HTTPS model server with its own CA, a registry, slots and an updater wired like the
 * daemon's, except that it accepts unsigned updates when no key is given (as `edge-agent models` does):
 * its tests are about the update machine. A signing key pair is at hand for the devices made from it
 * (test/ota/device.ts), which require signatures as the daemon does.
 */
export class OtaHarness {
  readonly dataDir = mkdtempSync(join(tmpdir(), 'ota-'));
  readonly signingKeys = generateSigningKeys();
  readonly registry = new ModelRegistry({ dataDir: this.dataDir, keepVersions: 2 });
  readonly intruderSlot = new ModelSlot<IntruderDetector>();
  readonly forecastSlot = new ModelSlot<Forecaster>();
  updater!: ModelUpdater;

  private constructor(
    readonly pki: TestPki,
    readonly server: ModelServer,
  ) {}

  static async start(options: HarnessOptions = {}): Promise<OtaHarness> {
    const pki = TestPki.create();
    const harness = new OtaHarness(pki, await ModelServer.start(pki.server()));
    harness.updater = harness.makeUpdater(options);
    return harness;
  }

  private makeUpdater(options: HarnessOptions = {}): ModelUpdater {
    return new ModelUpdater({
      registry: this.registry,
      loaders: testLoaders,
      slots: { intruder: this.intruderSlot, forecast: this.forecastSlot },
      fetch: {
        maxBytes: options.maxBytes ?? 50 * 1024 * 1024,
        connectTimeoutMs: 2000,
        readTimeoutMs: options.readTimeoutMs ?? 2000,
        deadlineMs: options.deadlineMs ?? 120_000,
        ca: this.pki.caPem,
      },
      publicKey: options.publicKey ?? null,
      acceptUnsigned: true,
      logger: silentLogger(),
    });
  }

  /** The signature of an update's manifest with the harness's key (base64), as `npm run sign:model` makes it. */
  sign(manifest: SignedManifest): string {
    return signManifest(this.signingKeys.privateKey, manifest);
  }

  /** Serves the fixture detector under a path and returns the URL. */
  serveIntruder(path: string, extra: { chunkDelayMs?: number; chunkSize?: number } = {}): string {
    return this.server.route(path, { kind: 'file', body: intruderModel, ...extra });
  }

  /** What the running pipeline would see now: the serving model's version and its detections on dog.jpg. */
  async probeIntruder(): Promise<{ version: string; classes: string[] }> {
    return this.intruderSlot.use(async (model) => ({
      version: model.info.version,
      classes: (await model.detect(dogImage)).objects.map((o) => o.class),
    }));
  }

  /** Files left in the registry's download folder (should be none between updates). */
  leftoverDownloads(): string[] {
    try {
      return readdirSync(join(this.registry.root, '.tmp'));
    } catch {
      return [];
    }
  }

  async close(): Promise<void> {
    await this.updater?.stop();
    await this.intruderSlot.close();
    await this.forecastSlot.close();
    await this.server.close();
    this.pki.remove();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
