/**
 * The names the model registry (agent/ota/registry.ts) accepts: roles, versions (which become folder
 * names beside the registry's own files) and model names (which are only shown). Every check throws a
 * RegistryError naming the value (cut short: it may come from a remote command) and the rule.
 */
import { quote } from '../lib/quote.js';

export const MODEL_ROLES = ['intruder', 'forecast'] as const;
export type ModelRole = (typeof MODEL_ROLES)[number];

/** A registry operation refused: unknown version, nothing to roll back to, a file that fails its checksum... */
export class RegistryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryError';
  }
}

/** The file in a role's folder that names its active version. */
export const POINTER_FILE = 'active';
/** Temporary files of a pointer being replaced: `active.tmp-<pid>-<uuid>`. */
export const POINTER_TEMP_PREFIX = 'active.tmp-';
/** Versions become folder names: no separators, no leading dot, bounded length. */
const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;
/** Names are only shown (`models list`, MQTT, /health): printable, no path separators, bounded length. */
const NAME_MAX_CHARS = 128;
const NAME_FORBIDDEN = /[\p{C}/\\]/u;

/**
 * A version named like the registry's own files in a role's folder (the `active` pointer and its
 * temporary files) would take their place: the pointer could never be written again. Compared without
 * case, as a FAT-formatted card would.
 */
function isReservedName(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === POINTER_FILE || lower.startsWith(POINTER_TEMP_PREFIX);
}

/** A folder name that can be a version (folders with other names in a role's folder are not versions). */
export function isVersionName(name: string): boolean {
  return VERSION_PATTERN.test(name) && !isReservedName(name);
}

export function isModelRole(value: unknown): value is ModelRole {
  return typeof value === 'string' && (MODEL_ROLES as readonly string[]).includes(value);
}

/** Throws a RegistryError naming the problem when `version` cannot be used as a version folder name. */
export function checkVersion(version: string): void {
  if (!VERSION_PATTERN.test(version)) {
    throw new RegistryError(`invalid version ${quote(version)}: use 1-64 letters, digits, '.', '_', '+' or '-', starting with a letter or digit`);
  }
  if (isReservedName(version)) {
    throw new RegistryError(`invalid version ${quote(version)}: '${POINTER_FILE}' (in any case, or followed by '.tmp-') is the registry's own pointer file`);
  }
}

export function checkRole(role: string): asserts role is ModelRole {
  if (!isModelRole(role)) throw new RegistryError(`unknown model role ${quote(role)} (expected ${MODEL_ROLES.join(' or ')})`);
}

/** Throws a RegistryError when `name` cannot be shown as it is: empty, too long, a control character or a path separator. */
export function checkModelName(name: string): void {
  if (name.length === 0 || name.length > NAME_MAX_CHARS || NAME_FORBIDDEN.test(name)) {
    throw new RegistryError(`invalid model name ${quote(name)}: use 1-${NAME_MAX_CHARS} printable characters, without '/' or '\\'`);
  }
}

/** `name` made acceptable to checkModelName (a name derived from a URL), or null when nothing is left of it. */
export function toModelName(name: string): string | null {
  const cleaned = name.replace(new RegExp(NAME_FORBIDDEN.source, 'gu'), '-').slice(0, NAME_MAX_CHARS);
  return /[^-\s]/.test(cleaned) ? cleaned : null;
}
