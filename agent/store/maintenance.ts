/**
 * The store's housekeeping as a service: group commit (store.sync() every `syncIntervalMs`, default
 * 1 s, which bounds what a power cut can lose), and pruning once at start (a device that was off for
 * weeks catches up at once) and then every `pruneIntervalMs` (default hourly). Its health is the store's.
 */
import type { ComponentHealth, Service } from '../runtime/service.js';
import type { Logger } from '../lib/log.js';
import type { SqliteStore } from './store.js';

export interface StoreMaintenanceDeps {
  store: SqliteStore;
  logger: Logger;
  syncIntervalMs?: number;
  pruneIntervalMs?: number;
}

export class StoreMaintenance implements Service {
  readonly name = 'store';
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly deps: StoreMaintenanceDeps) {}

  start(): Promise<void> {
    this.pruneNow();
    this.timers = [
      setInterval(() => this.deps.store.sync(), this.deps.syncIntervalMs ?? 1_000),
      setInterval(() => this.pruneNow(), this.deps.pruneIntervalMs ?? 3_600_000),
    ];
    return Promise.resolve();
  }

  stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    this.deps.store.sync();
    return Promise.resolve();
  }

  health(): ComponentHealth {
    return this.deps.store.health();
  }

  private pruneNow(): void {
    const removed = this.deps.store.prune();
    if (removed.readings + removed.detections + removed.forecasts > 0) {
      this.deps.logger.info({ removed }, 'removed records older than the retention period');
    }
  }
}
