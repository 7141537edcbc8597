/**
 * Nothing leaves the device unasked: the daemon on its embedded defaults and `edge-agent detect` run under
 * strace, and every socket address they connect or send to is read off the trace. The daemon may reach its
 * own broker on loopback and nothing else; detect reaches nothing at all. A connection to anywhere else
 * (a telemetry endpoint, a model hub, a DNS lookup of one) fails the test with the address.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { packageRoot } from '../../agent/lib/paths.js';
import { fixture } from '../helpers/fixtures.js';
import { freePort } from '../helpers/mosquitto.js';
import { MqttSubscriber } from '../helpers/mqtt-subscriber.js';
import { CLI_PATH as CLI } from '../helpers/cli.js';

const run = promisify(execFile);
const scratch: string[] = [];

afterEach(() => {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'edge-privacy-'));
  scratch.push(dir);
  return dir;
}

/** `strace` runs the command, recording every connect/sendto/sendmsg of every thread into `trace`. */
function straced(trace: string, args: string[]): string[] {
  return ['-f', '-qq', '-e', 'trace=connect,sendto,sendmsg', '-o', trace, ...args];
}

/** The internet addresses a trace shows the process connecting or sending to (`host:port`). */
function inetPeers(trace: string): string[] {
  const peers = new Set<string>();
  for (const line of readFileSync(trace, 'utf8').split('\n')) {
    const v4 = /sa_family=AF_INET, sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]+)"\)/.exec(line);
    if (v4) peers.add(`${v4[2]}:${v4[1]}`);
    const v6 = /sa_family=AF_INET6, sin6_port=htons\((\d+)\),.*inet_pton\(AF_INET6, "([^"]+)"/.exec(line);
    if (v6) peers.add(`[${v6[2]}]:${v6[1]}`);
  }
  return [...peers];
}

/** The agent run under strace; `stop()` sends SIGTERM to the agent itself (strace passes on only its own end) and resolves with its exit status. */
function tracedAgent(trace: string, args: string[], env: NodeJS.ProcessEnv): { output: () => string; stop: () => Promise<number | null> } {
  const child = spawn('strace', straced(trace, [process.execPath, CLI, ...args]), { cwd: packageRoot(), env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    output: () => out,
    stop: () => {
      const pid = /"pid":(\d+)/.exec(out)?.[1];
      if (pid) process.kill(Number(pid), 'SIGTERM');
      else child.kill('SIGKILL');
      return exited;
    },
  };
}

async function requireStrace(): Promise<void> {
  await run('strace', ['-V']).catch(() => {
    throw new Error('strace is missing: apt-get install strace (.ci/run installs it)');
  });
}

describe('what leaves the device', () => {
  it('the daemon on its embedded defaults talks to its own broker on loopback and to nothing else', { timeout: 60_000 }, async () => {
    await requireStrace();
    const dir = tempDir();
    const trace = join(dir, 'trace');
    const [brokerPort, httpPort] = [await freePort(), await freePort()];
    // The demo's defaults, with free ports and a scratch data folder so it can run beside other tests.
    const env = {
      ...process.env,
      EDGE_AGENT_DATA_DIR: join(dir, 'data'),
      EDGE_AGENT_MQTT_URL: `mqtt://127.0.0.1:${brokerPort}`,
      EDGE_AGENT_MQTT_EMBEDDED_BROKER_PORT: String(brokerPort),
      EDGE_AGENT_HTTP_PORT: String(httpPort),
    };
    const agent = tracedAgent(trace, ['run'], env);
    let status: number | null;
    try {
      // Connected, the HTTP server up and a reading delivered: every part of the demo has run.
      await expect.poll(() => agent.output().includes('"msg":"connected to mqtt://') && agent.output().includes('"msg":"HTTP server listening"'), { timeout: 40_000 }).toBe(true);
      const sub = await MqttSubscriber.connect(`mqtt://127.0.0.1:${brokerPort}`, 'edge/+/telemetry/temperature');
      await sub.waitFor((messages) => messages.length > 0, 30_000, 'a reading').finally(() => sub.close());
      expect((await fetch(`http://127.0.0.1:${httpPort}/health`)).status).toBe(200);
    } finally {
      status = await agent.stop();
    }
    expect(status).toBe(0);
    expect(inetPeers(trace)).toEqual([`127.0.0.1:${brokerPort}`]);
  });

  it('on the example configuration, whose broker is a placeholder, doctor and the daemon contact nothing', { timeout: 60_000 }, async () => {
    await requireStrace();
    const dir = tempDir();
    const example = join(packageRoot(), 'systemd', 'config.example.yaml');
    const env = { ...process.env, EDGE_AGENT_DATA_DIR: join(dir, 'data') };
    // What scripts/install.sh runs before the owner has edited the file.
    const doctorTrace = join(dir, 'doctor-trace');
    const doctor = await run('strace', straced(doctorTrace, [process.execPath, CLI, 'doctor', '--config', example]), { env }).catch((err: { stdout: string }) => err);
    expect(doctor.stdout).toMatch(/WARN\s+MQTT broker\s+mqtt\.url is not configured yet/);
    expect(inetPeers(doctorTrace)).toEqual([]);

    const daemonTrace = join(dir, 'daemon-trace');
    const agent = tracedAgent(daemonTrace, ['run', '--config', example], env);
    let status: number | null;
    try {
      await expect.poll(() => agent.output().includes('"msg":"mqtt.url is not configured yet'), { timeout: 40_000 }).toBe(true);
      await expect.poll(() => agent.output().includes('"ready_ms"'), { timeout: 20_000 }).toBe(true);
    } finally {
      status = await agent.stop();
    }
    expect(status).toBe(0);
    expect(inetPeers(daemonTrace)).toEqual([]);
  });

  it('`edge-agent detect` connects to nothing', async () => {
    await requireStrace();
    const trace = join(tempDir(), 'trace');
    const { stdout } = await run('strace', straced(trace, [process.execPath, CLI, 'detect', '--model', fixture('models/yolov8n-int8.onnx'), '--threads', '1', fixture('images/dog.jpg')]));
    expect(JSON.parse(stdout)).toMatchObject({ intruder: true });
    expect(inetPeers(trace)).toEqual([]);
  });
});
