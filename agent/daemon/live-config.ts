/**
 * Which configuration keys a running agent can change without a restart, and how (`cmd/config/set`).
 *
 * The agent's configuration object is shared: the motion gate, the intrusion tracker, the alarm policy
 * and the temperature alerts keep a reference to their section and read it at each use. A live key's new
 * value is therefore written into that object in place; a key whose reader copied it at start also
 * has an `apply` that hands the new value over. Every other key changed in the file waits for a restart.
 */
import { isDeepStrictEqual } from 'node:util';
import { schemaLeaves } from '../config/env.js';
import type { AgentConfig } from '../config/types.js';
import type { Logger } from '../lib/log.js';

/** What the appliers reach: the root logger, and the telemetry pipeline while it runs. */
export interface LiveTargets {
  logger: Logger;
  telemetry: () => { setCadence(cadence: { periodMs?: number; every_s?: number }): void } | null;
}

export interface LiveKey {
  /** Dotted key path. */
  path: string;
  /** How the change takes effect (docs/fleet.md lists these). */
  how: string;
  /** Hands the new value (already in `config`) to a reader that copied it at start. */
  apply?: (targets: LiveTargets, config: AgentConfig) => void;
}

export const LIVE_KEYS: readonly LiveKey[] = [
  { path: 'log_level', how: 'every module logs at the new level from its next line', apply: ({ logger }, config) => void (logger.level = config.log_level) },
  { path: 'motion.enabled', how: 'the motion gate reads it at each frame' },
  { path: 'motion.threshold', how: 'the motion gate reads it at each frame' },
  { path: 'motion.max_skip_s', how: 'the motion gate reads it at each frame' },
  { path: 'intruder.clear_after_s', how: 'the intrusion tracker reads it at each frame' },
  { path: 'intruder.cooldown_s', how: 'the intrusion tracker reads it when an intrusion starts' },
  { path: 'intruder.zones', how: 'the object tracker reads them at each frame (a new or renamed zone counts frames inside from zero)' },
  { path: 'intruder.required_zones', how: 'the intrusion tracker reads it at each frame' },
  { path: 'intruder.masks', how: 'the object tracker reads them at each frame' },
  { path: 'motion.masks', how: 'the motion gate reads them at each frame' },
  { path: 'alarm.zones', how: 'the vision pipeline reads it at each frame' },
  { path: 'alarm.hold_s', how: 'the alarm reads it at each intrusion and each `cmd/alarm`' },
  { path: 'forecast.high_c', how: 'the temperature alerts read it at each forecast' },
  { path: 'forecast.low_c', how: 'the temperature alerts read it at each forecast' },
  { path: 'forecast.hysteresis_c', how: 'the temperature alerts read it at each forecast' },
  {
    path: 'sensor.interval_s',
    how: 'the telemetry loop waits the new interval after its next reading (a replay keeps pacing itself)',
    apply: ({ telemetry }, config) => {
      if (config.sensor.driver !== 'replay') telemetry()?.setCadence({ periodMs: config.sensor.interval_s * 1000 });
    },
  },
  { path: 'forecast.every_s', how: 'the next forecast is due `every_s` after the last one', apply: ({ telemetry }, config) => telemetry()?.setCadence({ every_s: config.forecast.every_s }) },
  { path: 'watchdog.stall_s', how: 'the watchdog reads it at each check' },
];

const LIVE = new Map(LIVE_KEYS.map((key) => [key.path, key]));

/** The leaf keys whose value differs between two configurations, in schema order. */
export function changedKeys(before: AgentConfig, after: AgentConfig): string[] {
  return schemaLeaves()
    .filter(({ path }) => !isDeepStrictEqual(valueAt(before, path), valueAt(after, path)))
    .map(({ path }) => path.join('.'));
}

/**
 * Applies the live keys among `changed` to the running configuration `running` (from `next`), and returns
 * which were applied and which wait for a restart.
 */
export function applyLive(changed: readonly string[], running: AgentConfig, next: AgentConfig, targets: LiveTargets): { applied: string[]; restart_required: string[] } {
  const applied: string[] = [];
  const restart_required: string[] = [];
  for (const key of changed) {
    const live = LIVE.get(key);
    if (!live) {
      restart_required.push(key);
      continue;
    }
    const path = key.split('.');
    const section = path.slice(0, -1).reduce<Record<string, unknown>>((node, k) => node[k] as Record<string, unknown>, running as unknown as Record<string, unknown>);
    section[path[path.length - 1]!] = structuredClone(valueAt(next, path));
    live.apply?.(targets, running);
    applied.push(key);
  }
  return { applied, restart_required };
}

function valueAt(config: AgentConfig, path: readonly string[]): unknown {
  return path.reduce<unknown>((node, key) => (typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined), config);
}
