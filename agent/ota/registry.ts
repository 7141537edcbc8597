/**
 * Installed models on disk, per role and version, with an `active` pointer per role:
 *
 *   <data_dir>/models/<role>/<version>/model.onnx
 *   <data_dir>/models/<role>/<version>/manifest.json   {name, version, sha256, size, source, installed_at, signature?}
 *   <data_dir>/models/<role>/active                    {version, activated_at, previous: [...]}
 *
 * The invariant a power cut must not break: `active` names a complete, verified version or does not exist.
 * A version appears under its final name only by renaming a fully written and fsynced staging folder, and
 * the pointer is replaced by renaming a fsynced temporary file (then the folder is fsynced so the rename
 * itself is durable). Leftovers of an interrupted install are removed by `cleanup()`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncPath, writeFileAtomic, writeFileDurably } from '../lib/atomic-file.js';
import type { Logger } from '../lib/log.js';
import { checkModelName, checkVersion, isVersionName, MODEL_ROLES, POINTER_FILE, POINTER_TEMP_PREFIX, RegistryError, type ModelRole } from './registry-names.js';

export { checkModelName, checkRole, checkVersion, isModelRole, MODEL_ROLES, RegistryError, toModelName, type ModelRole } from './registry-names.js';

export interface ModelManifest {
  name: string;
  version: string;
  /** sha256 of model.onnx, lowercase hex. */
  sha256: string;
  size: number;
  /** Where the file came from (URL without its query string, which may hold credentials). */
  source: string;
  installed_at: string;
  /** Base64 Ed25519 signature the update carried, kept for audit. */
  signature?: string;
}

export interface InstalledModel {
  role: ModelRole;
  manifest: ModelManifest;
  /** Absolute path of model.onnx. */
  path: string;
  active: boolean;
}

export interface ActiveModel extends InstalledModel {
  activated_at: string;
  /** Versions active before this one, most recent first: what `rollback` goes back to. */
  previous: string[];
}

interface ActivePointer {
  version: string;
  activated_at: string;
  previous: string[];
}

export interface RegistryOptions {
  dataDir: string;
  /** Versions kept besides the active one (for rollback); older ones are removed by `prune`. */
  keepVersions: number;
  logger?: Logger;
  now?: () => Date;
}

const MODEL_FILE = 'model.onnx';
const MANIFEST_FILE = 'manifest.json';
const TEMP_DIR = '.tmp';
const STAGING_PREFIX = '.staging-';
const SHA256_PATTERN = /^[0-9a-f]{64}$/;

export class ModelRegistry {
  private readonly now: () => Date;

  constructor(private readonly options: RegistryOptions) {
    this.now = options.now ?? (() => new Date());
  }

  get root(): string {
    return join(this.options.dataDir, 'models');
  }

  roleDir(role: ModelRole): string {
    return join(this.root, role);
  }

  /**
   * A fresh path for a download, inside the registry so that installing it is a rename on the same
   * filesystem. Named after this process so `cleanup()` never removes a download another live process owns.
   */
  async newTempFile(): Promise<string> {
    const dir = join(this.root, TEMP_DIR);
    await mkdir(dir, { recursive: true });
    return join(dir, `${process.pid}-${randomUUID()}.part`);
  }

  /** Installed versions of a role (or of every role), newest install first. */
  async list(role?: ModelRole): Promise<InstalledModel[]> {
    const roles = role ? [role] : [...MODEL_ROLES];
    const all: InstalledModel[] = [];
    for (const r of roles) {
      const pointer = await this.readPointer(r);
      for (const version of await this.versionDirs(r)) {
        const manifest = await this.readManifest(r, version);
        if (manifest) all.push({ role: r, manifest, path: this.modelPath(r, version), active: pointer?.version === version });
      }
    }
    return all.sort((a, b) => b.manifest.installed_at.localeCompare(a.manifest.installed_at));
  }

  async get(role: ModelRole, version: string): Promise<InstalledModel | null> {
    checkVersion(version);
    const manifest = await this.readManifest(role, version);
    if (!manifest) return null;
    const pointer = await this.readPointer(role);
    return { role, manifest, path: this.modelPath(role, version), active: pointer?.version === version };
  }

  /**
   * The active version of a role, or null when none was activated. A pointer to a version whose files are
   * missing or the wrong size (disk corruption, manual deletion) also gives null, with a warning, so the
   * daemon falls back to its configured or shipped model instead of failing to start.
   */
  async active(role: ModelRole): Promise<ActiveModel | null> {
    const pointer = await this.readPointer(role);
    if (!pointer) return null;
    const manifest = await this.readManifest(role, pointer.version);
    const path = this.modelPath(role, pointer.version);
    const size = await stat(path).then((s) => s.size, () => -1);
    if (!manifest || size !== manifest.size) {
      this.options.logger?.warn({ role, version: pointer.version, size }, 'active model is missing or incomplete; ignoring it');
      return null;
    }
    return { role, manifest, path, active: true, activated_at: pointer.activated_at, previous: pointer.previous };
  }

  /** Path of the active model file of a role, or null (the daemon then uses its configured or shipped model). */
  async activeModelPath(role: ModelRole): Promise<string | null> {
    return (await this.active(role))?.path ?? null;
  }

  /**
   * Moves a downloaded and verified file into `<role>/<version>/` with its manifest. Installing a version
   * that is already there with the same sha256 keeps the existing copy; with another sha256 it is refused
   * (a version must always name the same bytes, or rollback would be a lie).
   */
  async install(role: ModelRole, tempFile: string, manifest: Omit<ModelManifest, 'installed_at'>): Promise<InstalledModel> {
    checkVersion(manifest.version);
    checkModelName(manifest.name);
    if (!SHA256_PATTERN.test(manifest.sha256)) throw new RegistryError(`invalid sha256 ${JSON.stringify(manifest.sha256)}`);
    const existing = await this.get(role, manifest.version);
    if (existing) {
      await rm(tempFile, { force: true });
      if (existing.manifest.sha256 === manifest.sha256) return existing;
      throw new RegistryError(
        `${role} version ${manifest.version} is already installed with sha256 ${existing.manifest.sha256}; give the new file another version`,
      );
    }
    const roleDir = this.roleDir(role);
    const staging = join(roleDir, `${STAGING_PREFIX}${process.pid}-${randomUUID()}`);
    await mkdir(staging, { recursive: true });
    try {
      const full: ModelManifest = { ...manifest, installed_at: this.now().toISOString() };
      await rename(tempFile, join(staging, MODEL_FILE));
      await fsyncPath(join(staging, MODEL_FILE));
      await writeFileDurably(join(staging, MANIFEST_FILE), JSON.stringify(full, null, 2) + '\n');
      await fsyncPath(staging);
      await rename(staging, join(roleDir, manifest.version));
      await fsyncPath(roleDir);
      return { role, manifest: full, path: this.modelPath(role, manifest.version), active: false };
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * Makes an installed version the active one after checking its file against the manifest's size and
   * sha256, so the pointer never names a damaged file. The version active before goes first in `previous`.
   */
  async activate(role: ModelRole, version: string): Promise<ActiveModel> {
    const installed = await this.get(role, version);
    if (!installed) throw new RegistryError(`${role} version ${version} is not installed`);
    await this.checkIntegrity(installed);
    const current = await this.readPointer(role);
    const previous = current && current.version !== version ? [current.version, ...current.previous] : (current?.previous ?? []);
    return this.writePointer(role, installed, previous.filter((v) => v !== version));
  }

  /** Goes back to the version that was active before the current one. */
  async rollback(role: ModelRole): Promise<ActiveModel> {
    const target = await this.rollbackTarget(role);
    await this.checkIntegrity(target.installed);
    return this.writePointer(role, target.installed, target.remaining);
  }

  /** The version `rollback` would activate (for callers that validate it before switching). */
  async rollbackTarget(role: ModelRole): Promise<{ installed: InstalledModel; remaining: string[] }> {
    const pointer = await this.readPointer(role);
    const candidates = pointer?.previous ?? [];
    for (let i = 0; i < candidates.length; i++) {
      const installed = await this.get(role, candidates[i] as string);
      if (installed) return { installed, remaining: candidates.slice(i + 1) };
    }
    throw new RegistryError(`no previous ${role} version to roll back to`);
  }

  /**
   * Removes versions beyond the active one and the `keepVersions` most relevant others: rollback targets
   * first (in rollback order), then the newest installs. Returns the removed versions.
   */
  async prune(role: ModelRole): Promise<string[]> {
    const pointer = await this.readPointer(role);
    const installed = await this.list(role);
    const byRecency = installed.map((m) => m.manifest.version);
    const ordered = [...new Set([...(pointer?.previous ?? []), ...byRecency])].filter((v) => v !== pointer?.version && byRecency.includes(v));
    const removed = ordered.slice(this.options.keepVersions);
    for (const version of removed) await rm(join(this.roleDir(role), version), { recursive: true, force: true });
    if (removed.length > 0) await fsyncPath(this.roleDir(role));
    return removed;
  }

  /** Removes a version that is not active. */
  async remove(role: ModelRole, version: string): Promise<void> {
    const installed = await this.get(role, version);
    if (!installed) return;
    if (installed.active) throw new RegistryError(`${role} version ${version} is active; activate another version first`);
    await rm(join(this.roleDir(role), version), { recursive: true, force: true });
    await fsyncPath(this.roleDir(role));
  }

  /**
   * Removes what interrupted installs left behind (downloads, staging folders and pointer temp files of
   * dead processes) and repairs a role whose pointer is a folder: a version installed under the name
   * `active` before that name was refused. No pointer could ever be written beside it, so the role could
   * never be activated again; the folder goes (with a warning), and the role works as if it had no version.
   */
  async cleanup(): Promise<void> {
    const leftovers: string[] = [];
    for (const name of await listDir(join(this.root, TEMP_DIR))) leftovers.push(join(this.root, TEMP_DIR, name));
    for (const role of MODEL_ROLES) {
      for (const name of await listDir(this.roleDir(role))) {
        if (name.startsWith(STAGING_PREFIX) || name.startsWith(POINTER_TEMP_PREFIX)) leftovers.push(join(this.roleDir(role), name));
      }
      await this.repairPointer(role);
    }
    for (const path of leftovers) {
      const pid = ownerPid(path);
      if (pid !== null && isAlive(pid)) continue;
      await rm(path, { recursive: true, force: true });
      this.options.logger?.info({ path }, 'removed leftover of an interrupted model install');
    }
  }

  /**
   * What is wrong with a role's pointer itself, in words, or null when it is absent or names an installed
   * version: a folder in its place, an unreadable or garbled file, a version that is not installed. (Whether
   * that version's file matches its manifest is `active()`'s and doctor's check.) `edge-agent doctor`
   * reports it; the daemon logs it at start and serves another model meanwhile.
   */
  async pointerProblem(role: ModelRole): Promise<string | null> {
    const path = join(this.roleDir(role), POINTER_FILE);
    const read = await this.readPointerFile(role);
    if (read.problem) return `${path}: ${read.problem}`;
    if (read.pointer && !(await this.readManifest(role, read.pointer.version))) {
      return `${path} names version ${read.pointer.version}, which is not installed (or has no readable manifest)`;
    }
    return null;
  }

  private async repairPointer(role: ModelRole): Promise<void> {
    const path = join(this.roleDir(role), POINTER_FILE);
    const isFolder = await stat(path).then((s) => s.isDirectory(), () => false);
    if (!isFolder) return;
    await rm(path, { recursive: true, force: true });
    await fsyncPath(this.roleDir(role));
    this.options.logger?.warn(
      { role, path },
      `removed ${path}: a ${role} model installed under the version name '${POINTER_FILE}', which is the pointer's own name; activate another version`,
    );
  }

  private modelPath(role: ModelRole, version: string): string {
    return join(this.roleDir(role), version, MODEL_FILE);
  }

  private async versionDirs(role: ModelRole): Promise<string[]> {
    return (await listDir(this.roleDir(role))).filter(isVersionName);
  }

  private async checkIntegrity(model: InstalledModel): Promise<void> {
    const { size, sha256 } = await hashFile(model.path).catch((err: Error) => {
      throw new RegistryError(`${model.role} version ${model.manifest.version}: cannot read ${model.path}: ${err.message}`);
    });
    if (size !== model.manifest.size || sha256 !== model.manifest.sha256) {
      throw new RegistryError(
        `${model.role} version ${model.manifest.version} is damaged on disk (size ${size}, sha256 ${sha256}; manifest says ${model.manifest.size}, ${model.manifest.sha256})`,
      );
    }
  }

  private async writePointer(role: ModelRole, installed: InstalledModel, previous: string[]): Promise<ActiveModel> {
    const pointer: ActivePointer = {
      version: installed.manifest.version,
      activated_at: this.now().toISOString(),
      previous: previous.slice(0, Math.max(this.options.keepVersions, 0)),
    };
    const roleDir = this.roleDir(role);
    // Named after this process, so that cleanup() leaves the temp files of a live process alone.
    const temp = join(roleDir, `${POINTER_TEMP_PREFIX}${process.pid}-${randomUUID()}`);
    await writeFileAtomic(join(roleDir, POINTER_FILE), JSON.stringify(pointer) + '\n', temp);
    return { ...installed, active: true, activated_at: pointer.activated_at, previous: pointer.previous };
  }

  /** The role's pointer, or null when there is none or it cannot be used (which is logged: never ignored silently). */
  private async readPointer(role: ModelRole): Promise<ActivePointer | null> {
    const { pointer, problem } = await this.readPointerFile(role);
    if (problem) this.options.logger?.warn({ role, problem }, `the active ${role} model pointer cannot be used (${problem}); ignoring it`);
    return pointer;
  }

  private async readPointerFile(role: ModelRole): Promise<{ pointer: ActivePointer | null; problem: string | null }> {
    let raw: string;
    try {
      raw = await readFile(join(this.roleDir(role), POINTER_FILE), 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { pointer: null, problem: null };
      return { pointer: null, problem: code === 'EISDIR' ? 'it is a folder, not the pointer file' : `unreadable (${code ?? (err as Error).message})` };
    }
    try {
      const parsed = JSON.parse(raw) as Partial<ActivePointer>;
      if (typeof parsed.version !== 'string' || !isVersionName(parsed.version)) throw new Error('no valid version');
      const previous = Array.isArray(parsed.previous) ? parsed.previous.filter((v): v is string => typeof v === 'string' && isVersionName(v)) : [];
      return { pointer: { version: parsed.version, activated_at: String(parsed.activated_at ?? ''), previous }, problem: null };
    } catch (err) {
      return { pointer: null, problem: `garbled (${(err as Error).message})` };
    }
  }

  private async readManifest(role: ModelRole, version: string): Promise<ModelManifest | null> {
    const raw = await readFile(join(this.roleDir(role), version, MANIFEST_FILE), 'utf8').catch(() => null);
    if (raw === null) return null;
    try {
      const m = JSON.parse(raw) as Partial<ModelManifest>;
      const valid =
        typeof m.name === 'string' &&
        m.version === version &&
        typeof m.sha256 === 'string' &&
        SHA256_PATTERN.test(m.sha256) &&
        typeof m.size === 'number' &&
        typeof m.source === 'string' &&
        typeof m.installed_at === 'string';
      if (!valid) throw new Error('missing or mistyped fields');
      return m as ModelManifest;
    } catch (err) {
      this.options.logger?.warn({ role, version, err }, 'unreadable model manifest; ignoring that version');
      return null;
    }
  }
}

/** sha256 and size of a file, streamed (models can be hundreds of MB). */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

async function listDir(dir: string): Promise<string[]> {
  return readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
}

/** The pid embedded in a leftover's name (`<prefix><pid>-<uuid>`), or null when it has none. */
function ownerPid(path: string): number | null {
  const match = /(?:^|[-/])(\d+)-[0-9a-f-]{36}(?:\.part)?$/.exec(path);
  return match ? Number(match[1]) : null;
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
