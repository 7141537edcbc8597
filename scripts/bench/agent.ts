/**
 * `npm run bench:agent`: the daemon's start-up time and memory with everything on. Runs the compiled
 * `edge-agent run` with the directory camera on the fixture photos, the YOLOv8n fixture model, the replay
 * sensor on the occupancy test file, the shipped forecaster and the embedded broker, and prints:
 *   - time from spawning the process to its "ready" log line (target <= 2 s), over a few starts;
 *   - resident memory (VmRSS, peak and last) while both pipelines run (target <= 200 MB);
 *   - time from SIGTERM to exit (target <= 10 s).
 * The agent runs with the Environment= settings and the node options of ExecStart= of
 * systemd/edge-agent.service (malloc arenas, V8 flags), so the figures are those of the installed
 * service; --bare runs it without them, for comparison.
 * --production runs it as systemd/config.example.yaml does: a separate broker (a mosquitto the script
 * starts) instead of the embedded one, and the HTTP API off.
 *
 * Options: --seconds N (how long to sample memory, default 20), --starts N (default 3),
 * --model PATH (default: the fixture model), --fixtures DIR (default ../shared/fixtures), --cli PATH
 * (default: dist/agent/cli.js), --bare, --production.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { packageRoot } from '../../agent/lib/paths.js';
import { startAgent } from './agent-process.js';
import { freePort, MosquittoProcess } from './mosquitto.js';
import { unitEnvironment, unitNodeFlags } from './unit.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    starts: { type: 'string', default: '3' },
    model: { type: 'string' },
    fixtures: { type: 'string' },
    cli: { type: 'string' },
    bare: { type: 'boolean', default: false },
    production: { type: 'boolean', default: false },
  },
});
const fixtures = values.fixtures ?? process.env.EDGE_AGENT_FIXTURES ?? join(packageRoot(), '..', 'shared', 'fixtures');
const cli = values.cli ?? join(packageRoot(), 'dist', 'agent', 'cli.js');

const agentEnv = values.bare ? {} : unitEnvironment();
const agentFlags = values.bare ? [] : unitNodeFlags();

/** VmRSS (what `ps` shows) and RssAnon (the process's own memory, without mapped libraries), in MB. */
function memoryMb(pid: number): { rss: number; anon: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1]) / 1024;
    return { rss: field('VmRSS'), anon: field('RssAnon') };
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-agent-'));
  const broker = values.production ? await MosquittoProcess.start() : null;
  try {
    const camera = join(dir, 'camera');
    mkdirSync(camera);
    for (const image of ['person.jpg', 'coffee.png', 'bus.jpg', 'cat.png']) symlinkSync(join(fixtures, 'images', image), join(camera, image));
    const port = broker?.port ?? (await freePort());
    const configPath = join(dir, 'config.yaml');
    writeFileSync(
      configPath,
      stringify({
        device_id: 'bench',
        data_dir: join(dir, 'data'),
        camera: { driver: 'dir', dir: camera, fps: 5, loop: true },
        intruder: { model: values.model ?? join(fixtures, 'models', 'yolov8n-int8.onnx') },
        sensor: { driver: 'replay', file: join(fixtures, 'data', 'occupancy', 'datatest.txt'), speed: 60, interval_s: 60 },
        forecast: { every_s: 300 },
        mqtt: { url: `mqtt://127.0.0.1:${port}`, embedded_broker: { enabled: broker === null, port } },
        http: { enabled: broker === null, port: 0 },
      }),
    );

    const readyTimes: number[] = [];
    for (let i = 0; i < Number(values.starts) - 1; i++) {
      const run = await startAgent({ cli, configPath, nodeFlags: agentFlags, env: agentEnv });
      readyTimes.push(run.readyMs);
      await run.stop();
    }
    const run = await startAgent({ cli, configPath, nodeFlags: agentFlags, env: agentEnv });
    readyTimes.push(run.readyMs);
    const samples: { rss: number; anon: number }[] = [];
    const until = performance.now() + Number(values.seconds) * 1000;
    while (performance.now() < until) {
      const memory = memoryMb(run.pid);
      if (memory !== null) samples.push(memory);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const stopMs = await run.stop();

    const settings = Object.entries(agentEnv).map(([name, value]) => `${name}=${value}`);
    console.log(`agent environment: ${settings.length > 0 ? settings.join(' ') : 'none (--bare)'}; node options: ${agentFlags.join(' ') || 'none'}`);
    console.log(values.production ? 'profile: production (separate mosquitto, HTTP off)' : 'profile: demo (embedded broker, HTTP on)');
    const sorted = [...readyTimes].sort((a, b) => a - b);
    console.log(`start to ready: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms over ${sorted.length} starts (target <= 2000 ms)`);
    const peak = (key: 'rss' | 'anon') => Math.max(...samples.map((s) => s[key])).toFixed(1);
    console.log(
      `RSS with both models and both pipelines running for ${values.seconds} s: peak ${peak('rss')} MB, last ${samples.at(-1)!.rss.toFixed(1)} MB ` +
        `(target <= 200 MB); of which private (RssAnon, without shared libraries): peak ${peak('anon')} MB`,
    );
    console.log(`SIGTERM to exit: ${stopMs.toFixed(0)} ms (target <= 10000 ms)`);
  } finally {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
