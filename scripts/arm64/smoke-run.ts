/**
 * The daemon step of scripts/arm64/check.sh: `edge-agent run` for about a minute under a given command
 * (the arm64 build under emulation), against a real mosquitto on 127.0.0.1, with the directory camera,
 * the replay sensor on the occupancy test file, the fixture YOLOv8n model, the shipped forecaster and the
 * HTTP API. It runs until every `running` expectation of smoke-checks.ts is met and at least --seconds
 * have passed since the agent was ready (or --timeout passed since the start), sends SIGTERM, and checks
 * the stop. Prints each expectation, then one summary line; exit status 0 when all were met, else 1.
 *
 * usage: node dist/scripts/arm64/smoke-run.js --cli CLI_JS --work DIR [--fixtures DIR] [--seconds 60]
 *        [--timeout 900] -- COMMAND...
 * COMMAND runs node (e.g. `scripts/arm64/emulate.sh SYSROOT NODE`); `CLI_JS run --config FILE` is appended.
 * DIR is emptied first and holds the config, the database, the broker's files and agent.log afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import sharp from 'sharp';
import { stringify } from 'yaml';
import { packageRoot } from '../../agent/lib/paths.js';
import { parseReplayCsv } from '../../drivers/sensors/replay-csv.js';
import { freePort, MosquittoProcess } from '../bench/mosquitto.js';
import { tally, unmet, type SmokeObservations } from './smoke-checks.js';

const DEVICE_ID = 'arm64-smoke';
const BASE_TOPIC = `edge/${DEVICE_ID}`;
/** Frames a second from the directory camera. */
const CAMERA_FPS = 1;
/** After SIGTERM the agent exits by itself within 10 s (70 beyond); past this it is killed and the check fails. */
const KILL_AFTER_MS = 60_000;

interface Options {
  cli: string;
  work: string;
  fixtures: string;
  seconds: number;
  timeout: number;
  command: string[];
}

function parseOptions(): Options {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      cli: { type: 'string' },
      work: { type: 'string' },
      fixtures: { type: 'string', default: join(packageRoot(), '..', 'shared', 'fixtures') },
      seconds: { type: 'string', default: '60' },
      timeout: { type: 'string', default: '900' },
    },
  });
  const seconds = Number(values.seconds);
  const timeout = Number(values.timeout);
  if (!values.cli || !values.work || positionals.length === 0 || !(seconds > 0) || !(timeout > seconds)) {
    throw new Error('usage: smoke-run.js --cli CLI_JS --work DIR [--fixtures DIR] [--seconds N] [--timeout N > seconds] -- COMMAND...');
  }
  return { cli: values.cli, work: resolve(values.work), fixtures: resolve(values.fixtures), seconds, timeout, command: positionals };
}

/**
 * The camera folder: a photo of people, then photos without anyone for longer than the run can last.
 * Why not the fixture photos in a loop: under emulation one inference takes 10-40 s, longer than the
 * agent's 10 s stop deadline, and a stop waits for the frame in the detector. With the people gone the
 * event ends, identical frames make no motion, and the detector is idle when SIGTERM comes.
 */
async function writeCameraFolder(options: Options, folder: string): Promise<void> {
  mkdirSync(folder, { recursive: true });
  symlinkSync(join(options.fixtures, 'images', 'bus.jpg'), join(folder, '00000-people.jpg'));
  const empty = join(options.work, 'empty-room.jpg');
  // JPEG once here rather than a PNG re-encoded for every frame by the emulated camera.
  await sharp(join(options.fixtures, 'images', 'coffee.png')).jpeg().toFile(empty);
  for (let i = 1; i <= options.timeout * CAMERA_FPS + 60; i++) symlinkSync(empty, join(folder, `${String(i).padStart(5, '0')}-empty.jpg`));
}

function writeConfig(options: Options, brokerUrl: string, httpPort: number, cameraDir: string, replayFile: string): string {
  const path = join(options.work, 'config.yaml');
  const config = {
    device_id: DEVICE_ID,
    data_dir: join(options.work, 'data'),
    log_level: 'info',
    camera: { driver: 'dir', dir: cameraDir, fps: CAMERA_FPS, loop: false },
    // No forced detector runs: the detector rests once the people have left (see writeCameraFolder).
    motion: { max_skip_s: 3600 },
    intruder: { model: join(options.fixtures, 'models', 'yolov8n-int8.onnx'), clear_after_s: 5, cooldown_s: 0 },
    // Two readings a second: a forecast window (60 readings) within the first minute.
    sensor: { driver: 'replay', file: replayFile, speed: 120, interval_s: 60 },
    // Office temperatures are always above 20 °C: the first forecast raises a `high` alert.
    forecast: { every_s: 600, high_c: 20 },
    mqtt: { url: brokerUrl, prefix: 'edge', embedded_broker: { enabled: false } },
    alarm: { gpio: null, hold_s: 5 },
    http: { enabled: true, host: '127.0.0.1', port: httpPort },
  };
  writeFileSync(path, stringify(config));
  return path;
}

/** Threads and resident memory of a process, from /proc (for the emulated agent: the qemu process). */
function processStatus(pid: number): { threads: number; rssMb: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    return { threads: field('Threads'), rssMb: Math.round(field('VmRSS') / 1024) };
  } catch {
    return null;
  }
}

/** Pino JSON lines: notes the ready time and every error. */
function watchLog(child: ChildProcess, logPath: string, observations: SmokeObservations, onReady: () => void): void {
  const log = createWriteStream(logPath);
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    log.write(chunk);
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      let entry: { level?: number; msg?: string; ready_ms?: number };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue;
      }
      if (entry.ready_ms !== undefined) onReady();
      if ((entry.level ?? 0) >= 50) observations.errorLogs.push(entry.msg ?? line);
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => log.write(chunk));
  child.once('exit', () => log.end());
}

async function checkHealth(port: number, observations: SmokeObservations): Promise<void> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(5_000) });
    observations.health = { status: response.status, body: await response.json() };
  } catch {
    // Not listening yet, or too slow under emulation: asked again at the next tick.
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stopAgent(child: ChildProcess, exited: Promise<SmokeObservations['exit']>): Promise<number> {
  const started = performance.now();
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
  await exited;
  clearTimeout(killer);
  return (performance.now() - started) / 1000;
}

async function main(): Promise<number> {
  const options = parseOptions();
  rmSync(options.work, { recursive: true, force: true });
  mkdirSync(options.work, { recursive: true });
  const cameraDir = join(options.work, 'camera');
  await writeCameraFolder(options, cameraDir);
  const replayFile = join(options.fixtures, 'data', 'occupancy', 'datatest.txt');
  const firstRow = parseReplayCsv(readFileSync(replayFile, 'utf8'), 'Temperature', replayFile)[0];

  const observations: SmokeObservations = { messages: [], health: null, exit: null, errorLogs: [], firstFileCelsius: firstRow?.value ?? NaN };
  const brokerDir = join(options.work, 'mosquitto');
  mkdirSync(brokerDir);
  const broker = await MosquittoProcess.start({ dir: brokerDir });
  const subscriber = await mqtt.connectAsync(broker.url, { clientId: 'arm64-smoke-observer' });
  let child: ChildProcess | null = null;
  try {
    subscriber.on('message', (topic, payload) => observations.messages.push({ topic: topic.slice(BASE_TOPIC.length + 1), payload }));
    await subscriber.subscribeAsync(`${BASE_TOPIC}/#`, { qos: 1 });
    const httpPort = await freePort();
    const configPath = writeConfig(options, broker.url, httpPort, cameraDir, replayFile);

    const spawned = performance.now();
    // Set from the log watcher's callback (an object, so the loop below sees the change).
    const timing = { readyAt: null as number | null, sigtermSent: false };
    const agent = spawn(options.command[0]!, [...options.command.slice(1), options.cli, 'run', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = agent;
    const exited = new Promise<SmokeObservations['exit']>((done) =>
      agent.once('exit', (code, signal) => done((observations.exit = { code, signal, afterSigterm: timing.sigtermSent }))),
    );
    watchLog(agent, join(options.work, 'agent.log'), observations, () => (timing.readyAt ??= performance.now()));

    let peak = { threads: 0, rssMb: 0 };
    const secondsSince = (t: number) => (performance.now() - t) / 1000;
    while (observations.exit === null && secondsSince(spawned) < options.timeout) {
      const status = processStatus(agent.pid!);
      if (status) peak = { threads: Math.max(peak.threads, status.threads), rssMb: Math.max(peak.rssMb, status.rssMb) };
      const { readyAt } = timing;
      if (readyAt !== null && observations.health === null) await checkHealth(httpPort, observations);
      if (readyAt !== null && secondsSince(readyAt) >= options.seconds && unmet(observations, ['running']).length === 0) break;
      await sleep(1_000);
    }
    const { readyAt } = timing;
    const ranS = readyAt === null ? 0 : secondsSince(readyAt);
    let stopS = NaN;
    if (observations.exit === null) {
      timing.sigtermSent = true;
      stopS = await stopAgent(agent, exited);
    }
    // The broker has sent everything the agent published before it disconnected; give the observer a moment.
    await sleep(1_000);

    const failed = unmet(observations);
    for (const expectation of failed) console.log(`  MISSING ${expectation.name}`);
    for (const message of observations.errorLogs.slice(0, 5)) console.log(`  LOGGED ERROR ${message}`);
    const readyS = readyAt === null ? 'never ready' : `ready after ${((readyAt - spawned) / 1000).toFixed(0)} s`;
    console.log(
      `run: ${readyS}, ran ${ranS.toFixed(0)} s: ${tally(observations)}; SIGTERM to exit ${stopS.toFixed(1)} s ` +
        `(status ${observations.exit?.code ?? observations.exit?.signal}); peak ${peak.threads} threads, ${peak.rssMb} MB resident` +
        (failed.length === 0 ? '' : `; ${failed.length} expectations not met (see ${join(options.work, 'agent.log')})`),
    );
    return failed.length === 0 ? 0 : 1;
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await subscriber.endAsync();
    await broker.stop();
  }
}

try {
  process.exitCode = await main();
} catch (err) {
  console.error(`smoke-run: ${(err as Error).message}`);
  process.exitCode = 1;
}
