/**
 * Picks up an activation made outside the daemon (`edge-agent models install ... --activate`, `models
 * activate`, `models rollback`): every `pollMs` it looks at each role's `active` pointer file, and when the
 * pointer changed and names a model other than the one the pipeline serves, it asks the updater to serve
 * it: validated like an MQTT update, then hot-swapped. A model that fails validation is logged and the
 * pipeline keeps the one it has. Cheap while nothing changes: one stat() per role and poll.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../lib/log.js';
import type { ActiveModel, ModelRegistry, ModelRole } from './registry.js';
import type { ModelUpdater } from './updater.js';

export interface ActiveWatchDeps {
  /** The roles whose model comes from the registry (a configured `<role>.model` path wins over it). */
  roles: readonly ModelRole[];
  registry: Pick<ModelRegistry, 'roleDir'>;
  updater: Pick<ModelUpdater, 'serveActive'>;
  /** What each role's pipeline serves now (null: no pipeline or no model). */
  servingSha256: (role: ModelRole) => string | null;
  onActivated: (active: ActiveModel) => void;
  logger: Logger;
  pollMs?: number;
}

const DEFAULT_POLL_MS = 2_000;

export class ActiveModelWatch {
  private timer: NodeJS.Timeout | null = null;
  /** The pointer file as last seen, per role ("" = absent). */
  private readonly seen = new Map<ModelRole, string>();
  private checking: Promise<void> = Promise.resolve();

  constructor(private readonly deps: ActiveWatchDeps) {}

  /** Notes the pointers as they are now (the models loaded at start came from them), then polls. */
  async start(): Promise<void> {
    for (const role of this.deps.roles) this.seen.set(role, await this.pointerStamp(role));
    this.timer = setInterval(() => {
      this.checking = this.checking.then(() => this.check());
    }, this.deps.pollMs ?? DEFAULT_POLL_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.checking;
  }

  private async check(): Promise<void> {
    for (const role of this.deps.roles) {
      const stamp = await this.pointerStamp(role);
      if (stamp === this.seen.get(role)) continue;
      this.seen.set(role, stamp);
      if (stamp === '' || !this.timer) continue;
      try {
        const active = await this.deps.updater.serveActive(role, (sha256) => sha256 !== this.deps.servingSha256(role));
        if (active) this.deps.onActivated(active);
      } catch (err) {
        this.deps.logger.error({ err, role }, `the ${role} model activated on disk was not served: ${(err as Error).message}; the pipeline keeps its model`);
      }
    }
  }

  /** Identifies the pointer file's current content cheaply: inode, size and mtime change with every activation (a rename). */
  private async pointerStamp(role: ModelRole): Promise<string> {
    try {
      const s = await stat(join(this.deps.registry.roleDir(role), 'active'), { bigint: true });
      return `${s.ino}:${s.size}:${s.mtimeNs}`;
    } catch {
      return '';
    }
  }
}
