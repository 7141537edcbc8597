/**
 * The update state machine: check → download → verify → install → validate → activate → swap.
 *
 * Until the swap, the serving model is untouched: the new one is downloaded beside it, installed under
 * its own version folder, and loaded in a session of its own. Any failure stops the machine with an
 * OtaError naming the reason, removes what this update added, and leaves the old model serving and the
 * registry's `active` pointer where it was. A power cut at any step leaves the pointer on the old or the
 * new complete version (see agent/ota/registry.ts). Operations run one at a time.
 */
import type { KeyObject } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { basename } from 'node:path';
import type { EventBus } from '../runtime/event-bus.js';
import type { Logger } from '../lib/log.js';
import { SerialQueue } from '../lib/serial-queue.js';
import { checkModelName, checkRole, checkVersion, isModelRole, toModelName, type ActiveModel, type InstalledModel, type ModelRegistry, type ModelRole } from './registry.js';
import { OtaError, toOtaError } from './errors.js';
import { fetchToFile, type FetchOptions, type FetchProgress } from './fetch.js';
import { redactUrl } from '../lib/redact-url.js';
import { validateModel, type ModelLoaders, type RoleModels } from './validate.js';
import { percentOf } from './messages.js';
import { checkSha256, checkSignature, normalizeSha256 } from './verify.js';

export interface UpdateRequest {
  role: string;
  version: string;
  /** https:// or file:// */
  url: string;
  sha256: string;
  /** Base64 Ed25519 signature of the canonical manifest (required unless the updater accepts unsigned updates). */
  signature?: string;
  /** Name recorded in the manifest; default: the URL's file name without `.onnx`. */
  name?: string;
}

export type UpdateStage = 'downloading' | 'verifying' | 'installing' | 'validating' | 'activating';

export interface UpdateProgress {
  stage: UpdateStage;
  /** Download progress; only with stage 'downloading'. */
  download?: FetchProgress;
}

export type ProgressListener = (progress: UpdateProgress) => void;

/** Where a pipeline's model lives; `ModelSlot` from agent/runtime/model-slot.ts fits. */
export interface SwappableSlot<T> {
  swap(next: T | null): Promise<void>;
}

export interface UpdaterDeps {
  registry: ModelRegistry;
  loaders: ModelLoaders;
  /** Slots of the running pipelines; none in the CLI, where a validated model is closed again. */
  slots?: { [R in ModelRole]?: SwappableSlot<RoleModels[R]> };
  fetch: Omit<FetchOptions, 'onProgress' | 'signal'>;
  /** Ed25519 key from `ota.public_key`; when set, unsigned or badly signed updates are refused. */
  publicKey: KeyObject | null;
  /**
   * Without a key, accept updates that carry no signature (default false: refuse them). True for local
   * installs from the CLI and, remotely, only with `ota.allow_unsigned_remote_updates`.
   */
  acceptUnsigned?: boolean;
  logger: Logger;
  bus?: EventBus;
}

export class ModelUpdater {
  private readonly queue = new SerialQueue();
  private readonly aborter = new AbortController();
  private readonly log: Logger;

  constructor(private readonly deps: UpdaterDeps) {
    this.log = deps.logger.child({ module: 'ota' });
  }

  /**
   * Downloads, verifies, installs, validates and activates a model, then hot-swaps the running pipeline
   * to it. Its progress and failure also go on the bus (`model.update.*`), whatever asked for the update,
   * so observers (the update entity's state) follow every update.
   */
  update(request: UpdateRequest, onProgress?: ProgressListener): Promise<ActiveModel> {
    const { bus } = this.deps;
    const role = isModelRole(request.role) ? request.role : null;
    const version = request.version;
    const report = (progress: UpdateProgress) => {
      onProgress?.(progress);
      if (role) bus?.emit('model.update.progress', { role, version, stage: progress.stage, percent: progress.download ? percentOf(progress.download) : null });
    };
    const run = this.serially(async () => {
      const { installed, model } = await this.installAndValidate(request, this.deps.acceptUnsigned ?? false, report);
      return this.activateLoaded(installed, model, report);
    });
    if (role) run.catch((err: unknown) => bus?.emit('model.update.failed', { role, version, error: (err as Error).message }));
    return run;
  }

  /**
   * `update` for a model this device made itself (the forecast calibration's room model): a local install,
   * so no signature is asked for. It cannot carry one, and nobody outside chose its bytes.
   */
  updateMadeOnDevice(request: UpdateRequest): Promise<ActiveModel> {
    return this.serially(async () => {
      const { installed, model } = await this.installAndValidate(request, true);
      return this.activateLoaded(installed, model);
    });
  }

  /** Like `update` without activating: the model is installed and validated, then closed. */
  install(request: UpdateRequest, onProgress?: ProgressListener): Promise<InstalledModel> {
    return this.serially(async () => {
      const { installed, model } = await this.installAndValidate(request, this.deps.acceptUnsigned ?? false, onProgress);
      await model.close();
      return installed;
    });
  }

  /** Validates an installed version again and makes it the active one. */
  activate(role: string, version: string, onProgress?: ProgressListener): Promise<ActiveModel> {
    return this.serially(async () => {
      const r = parseRole(role);
      const installed = await this.deps.registry.get(r, checkedVersion(version));
      if (!installed) throw new OtaError('invalid_request', `${r} version ${version} is not installed`);
      onProgress?.({ stage: 'validating' });
      const model = await validateModel(r, installed.path, installed.manifest, this.deps.loaders);
      return this.activateLoaded(installed, model, onProgress);
    });
  }

  /**
   * Serves the registry's active version of `role` (activated by another process, the CLI): validates it
   * and hot-swaps it in, leaving the pointer as it is. Null when there is no active version or `wanted`
   * says the pipeline already serves it (checked in turn with other operations, so an MQTT update that
   * just activated it is not loaded twice).
   */
  serveActive(role: ModelRole, wanted: (sha256: string) => boolean): Promise<ActiveModel | null> {
    return this.serially(async () => {
      const active = await this.deps.registry.active(role);
      if (!active || !wanted(active.manifest.sha256)) return null;
      const model = await validateModel(role, active.path, active.manifest, this.deps.loaders);
      return this.switchTo(role, model, () => Promise.resolve(active));
    });
  }

  /** Goes back to the previously active version, validating it before the switch. */
  rollback(role: string, onProgress?: ProgressListener): Promise<ActiveModel> {
    return this.serially(async () => {
      const r = parseRole(role);
      const target = await this.deps.registry.rollbackTarget(r).catch((err: unknown) => {
        throw toOtaError(err, 'invalid_request');
      });
      onProgress?.({ stage: 'validating' });
      const model = await validateModel(r, target.installed.path, target.installed.manifest, this.deps.loaders);
      return this.switchTo(r, model, () => this.deps.registry.rollback(r), onProgress);
    });
  }

  /**
   * Cancels a download in progress, refuses further operations and waits for the one running to end
   * (the daemon is stopping: a model must not be swapped into a pipeline that is closing).
   */
  async stop(): Promise<void> {
    this.aborter.abort();
    await this.queue.drain();
  }

  private async installAndValidate(request: UpdateRequest, acceptUnsigned: boolean, onProgress?: ProgressListener) {
    const role = parseRole(request.role);
    const version = checkedVersion(request.version);
    const sha256 = normalizeSha256(request.sha256);
    if (typeof request.url !== 'string' || request.url === '') throw new OtaError('invalid_request', 'url is required');
    const name = checkedName(request.name ?? nameFromUrl(request.url, role));
    checkSignature(this.deps.publicKey, { role, version, sha256 }, request.signature, acceptUnsigned);

    const existing = await this.deps.registry.get(role, version);
    if (existing && existing.manifest.sha256 !== sha256) {
      throw new OtaError('invalid_request', `${role} version ${version} is already installed with sha256 ${existing.manifest.sha256}; give the new file another version`);
    }
    let installed: InstalledModel;
    if (existing) {
      // A retried update (a resumed job, a repeated command): the verified bytes are already here.
      this.log.info({ role, version }, 'version already installed; skipping the download');
      installed = existing;
    } else {
      installed = await this.download(role, { version, sha256, name }, request, onProgress);
    }

    onProgress?.({ stage: 'validating' });
    try {
      return { installed, model: await validateModel(role, installed.path, installed.manifest, this.deps.loaders) };
    } catch (err) {
      if (installed !== existing) await this.deps.registry.remove(role, version).catch((e: unknown) => this.log.warn({ err: e }, 'could not remove a rejected model'));
      throw err;
    }
  }

  private async download(
    role: ModelRole,
    { version, sha256, name }: { version: string; sha256: string; name: string },
    request: UpdateRequest,
    onProgress?: ProgressListener,
  ): Promise<InstalledModel> {
    const temp = await this.deps.registry.newTempFile();
    onProgress?.({ stage: 'downloading' });
    const fetched = await fetchToFile(request.url, temp, {
      ...this.deps.fetch,
      signal: this.aborter.signal,
      onProgress: (download) => onProgress?.({ stage: 'downloading', download }),
    });
    onProgress?.({ stage: 'verifying' });
    try {
      checkSha256(sha256, fetched.sha256);
      onProgress?.({ stage: 'installing' });
      return await this.deps.registry.install(role, temp, {
        name,
        version,
        sha256,
        size: fetched.bytes,
        source: redactUrl(request.url),
        ...(request.signature ? { signature: request.signature } : {}),
      });
    } catch (err) {
      await rm(temp, { force: true });
      throw toOtaError(err, 'install_failed');
    }
  }

  private activateLoaded<R extends ModelRole>(installed: InstalledModel, model: RoleModels[R], onProgress?: ProgressListener): Promise<ActiveModel> {
    const role = installed.role as R;
    return this.switchTo(role, model, () => this.deps.registry.activate(role, installed.manifest.version), onProgress);
  }

  /** Moves the pointer, then hands the validated model to the pipeline; on failure the model is closed and nothing changes. */
  private async switchTo<R extends ModelRole>(
    role: R,
    model: RoleModels[R],
    movePointer: () => Promise<ActiveModel>,
    onProgress?: ProgressListener,
  ): Promise<ActiveModel> {
    onProgress?.({ stage: 'activating' });
    let active: ActiveModel;
    try {
      if (this.aborter.signal.aborted) throw new OtaError('cancelled', 'the agent is stopping');
      active = await movePointer();
    } catch (err) {
      await model.close().catch(() => undefined);
      throw toOtaError(err, 'activation_failed');
    }
    const slot = this.deps.slots?.[role] as SwappableSlot<RoleModels[R]> | undefined;
    if (slot) await slot.swap(model);
    else await model.close();
    const { name, version } = active.manifest;
    this.log.info({ role, name, version, swapped: Boolean(slot) }, `activated ${role} model ${name} ${version}`);
    this.deps.bus?.emit('model.activated', { role, name, version });
    await this.deps.registry.prune(role).catch((err: unknown) => this.log.warn({ err, role }, 'pruning old model versions failed'));
    return active;
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.run(() => {
      if (this.aborter.signal.aborted) throw new OtaError('cancelled', 'the agent is stopping');
      return task();
    });
    return run.catch((err: unknown) => {
      throw toOtaError(err, 'install_failed');
    });
  }
}

function parseRole(role: string): ModelRole {
  return asInvalidRequest(() => checkRole(role), role as ModelRole);
}

function checkedVersion(version: unknown): string {
  if (typeof version !== 'string') throw new OtaError('invalid_request', 'version is required');
  return asInvalidRequest(() => checkVersion(version), version);
}

function checkedName(name: string): string {
  return asInvalidRequest(() => checkModelName(name), name);
}

/** Runs a registry check, turning its refusal into the request's fault. */
function asInvalidRequest<T>(check: () => void, value: T): T {
  try {
    check();
  } catch (err) {
    throw new OtaError('invalid_request', (err as Error).message);
  }
  return value;
}

/** The URL's file name without `.onnx`, made a valid model name (a URL may encode anything in it). */
function nameFromUrl(url: string, role: ModelRole): string {
  const fallback = `${role}-model`;
  try {
    const file = decodeURIComponent(basename(new URL(url).pathname)).replace(/\.onnx$/i, '');
    return toModelName(file) ?? fallback;
  } catch {
    return fallback;
  }
}
