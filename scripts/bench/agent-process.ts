/**
 * The compiled daemon (`edge-agent run`) as a child process, for benchmarks and evaluations that must
 * measure the real thing: spawned with a configuration file, ready when it logs its `ready_ms` line.
 */
import { spawn } from 'node:child_process';

export interface AgentProcess {
  /** From spawning the process to its ready line. */
  readyMs: number;
  pid: number;
  /** SIGTERM; resolves with the milliseconds until the process exited. */
  stop: () => Promise<number>;
  /** Resolves when the process has exited (however it ended). */
  exited: Promise<void>;
}

export interface AgentSpawnOptions {
  cli: string;
  configPath: string;
  /** Node options before the script (V8 flags). */
  nodeFlags?: readonly string[];
  /** Added to this process's environment. */
  env?: Record<string, string>;
}

/** Spawns the agent and resolves when it logs that it is ready; rejects (with its stderr) if it exits first. */
export function startAgent(options: AgentSpawnOptions): Promise<AgentProcess> {
  const started = performance.now();
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), options.cli, 'run', '--config', options.configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        if (!line.includes('"ready_ms"')) continue;
        const readyMs = performance.now() - started;
        const stop = async () => {
          const t = performance.now();
          child.kill('SIGTERM');
          await exited;
          return performance.now() - t;
        };
        resolve({ readyMs, stop, pid: child.pid!, exited });
      }
    });
    void exited.then(() => reject(new Error(`the agent exited before it was ready: ${stderr}`)));
  });
}
