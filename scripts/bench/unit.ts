/**
 * How systemd/edge-agent.service runs the agent, for benchmarks that measure it as installed: its
 * `Environment=` settings (malloc arenas, V8 flags) and the node options of its `ExecStart=`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../agent/lib/paths.js';

/** The unit's `Environment=NAME=VALUE` lines (one assignment per line, optionally double-quoted). */
export function unitEnvironment(): Record<string, string> {
  const unit = readFileSync(join(packageRoot(), 'systemd', 'edge-agent.service'), 'utf8');
  const env: Record<string, string> = {};
  for (const line of unit.split('\n')) {
    const match = /^Environment=(?:"([^"]*)"|(.*))$/.exec(line.trim());
    if (!match) continue;
    const assignment = match[1] ?? match[2]!;
    const eq = assignment.indexOf('=');
    if (eq < 1) throw new Error(`systemd/edge-agent.service: cannot read '${line.trim()}' (expected Environment=NAME=VALUE)`);
    env[assignment.slice(0, eq)] = assignment.slice(eq + 1);
  }
  return env;
}
/** The node options before the script in the unit's `ExecStart=` (such as --optimize-for-size). */
export function unitNodeFlags(): string[] {
  const unit = readFileSync(join(packageRoot(), 'systemd', 'edge-agent.service'), 'utf8');
  const execStart = /^ExecStart=(.*)$/m.exec(unit)?.[1];
  if (!execStart) throw new Error('systemd/edge-agent.service: no ExecStart= line');
  const words = execStart.trim().split(/\s+/);
  const script = words.findIndex((word) => word.endsWith('cli.js'));
  if (script < 1) throw new Error(`systemd/edge-agent.service: cannot find node and cli.js in '${execStart}'`);
  return words.slice(1, script);
}
