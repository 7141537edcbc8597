/**
 * One camera sequence through the real daemon: `edge-agent run` (compiled, as systemd starts it) with the
 * `dir` camera, a broker, and an MQTT subscriber on the intruder alert topic in this process.
 *
 * The camera's folder holds named pipes (FIFOs), not files: the dir camera reads each "file" when its
 * frame is due, and that read completes when this process writes the frame into the pipe. So frames
 * arrive in real time at the camera's rate, and this process knows to the millisecond when each reached
 * the camera: the latency from a frame showing an intruder to its alert at the subscriber is measured,
 * not estimated. After the last frame, one more pipe is never written: the camera waits on it instead
 * of ending its stream (which the daemon would restart from the first frame).
 */
import { execFileSync } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { valueWithin } from '../../../agent/lib/timing.js';
import { mqttBaseTopic } from '../../../agent/mqtt/client-options.js';
import { defaultConfig } from '../../../agent/config/load.js';
import { Topic, type IntruderAlertPayload } from '../../../agent/mqtt/contract/topics.js';
import { startAgent } from '../../bench/agent-process.js';
import { freePort } from '../../bench/mosquitto.js';

export interface AgentRunOptions {
  cli: string;
  model: string;
  brokerUrl: string;
  /** A fresh folder for the camera's pipes, the configuration and the agent's data. */
  dir: string;
  deviceId: string;
  fps: number;
  /** How long to keep listening after the last frame: the alert for a late intruder must still arrive. */
  settleMs: number;
  nodeFlags: readonly string[];
  env: Record<string, string>;
  /** The frame from which the detector runs are counted apart (the first showing the sequence's subject); null: none. */
  countFrom: number | null;
}

export interface AlertSeen {
  /** Date.now() when the subscriber received it. */
  receivedAt: number;
  /** Received after the agent was told to stop (the `end` a stopping agent sends). */
  afterStop: boolean;
  payload: IntruderAlertPayload;
}

export interface VisionStats {
  frames: number;
  inferences: number;
  skipped: number;
}

export interface AgentRun {
  /** Date.now() when each frame reached the camera. */
  shownAt: number[];
  alerts: AlertSeen[];
  /** The vision pipeline's counters from /health, read before the agent stops. */
  stats: VisionStats;
  /**
   * /health's inference count just before frame `countFrom` reached the camera (null without one): the
   * frame before it has been through the pipeline by then, half a second after it arrived.
   */
  inferencesBefore: number | null;
  readyMs: number;
}

/** A frame the camera did not ask for within this long means the agent is not reading its camera. */
const FRAME_WAIT_MS = 15_000;

const pipeName = (index: number) => `frame-${String(index).padStart(5, '0')}.jpg`;

/** Writes `jpeg` into the pipe once the camera opens it; resolves when the camera has read it all. */
async function deliver(pipe: string, jpeg: Buffer): Promise<void> {
  const opening = open(pipe, 'w');
  const handle = await valueWithin(opening, FRAME_WAIT_MS, null);
  if (handle === null) {
    // Opening a pipe for reading never blocks with O_NONBLOCK, and it releases the blocked writer.
    const reader = await open(pipe, constants.O_RDONLY | constants.O_NONBLOCK);
    await (await opening).close();
    await reader.close();
    throw new Error(`the agent's camera did not read ${pipe} within ${FRAME_WAIT_MS / 1000} s`);
  }
  try {
    await handle.writeFile(jpeg);
  } finally {
    await handle.close();
  }
}

/** Gives an end of file to every reader still waiting on a pipe (the camera blocks in its read, keeping a stopping agent alive). */
async function releaseReaders(pipes: readonly string[]): Promise<void> {
  for (const pipe of pipes) {
    try {
      // Without a reader this fails at once (ENXIO) instead of waiting for one.
      await (await open(pipe, constants.O_WRONLY | constants.O_NONBLOCK)).close();
    } catch {
      // No reader on this pipe.
    }
  }
}

async function visionStats(port: number): Promise<VisionStats> {
  const response = await fetch(`http://127.0.0.1:${port}/health`);
  const body = (await response.json()) as { components: { vision?: Partial<VisionStats> } };
  const vision = body.components.vision;
  if (typeof vision?.frames !== 'number' || typeof vision.inferences !== 'number' || typeof vision.skipped !== 'number') {
    throw new Error(`/health has no vision counters: ${JSON.stringify(body.components)}`);
  }
  return { frames: vision.frames, inferences: vision.inferences, skipped: vision.skipped };
}

export async function runThroughAgent(frames: readonly Buffer[], options: AgentRunOptions): Promise<AgentRun> {
  const cameraDir = join(options.dir, 'camera');
  await mkdir(cameraDir, { recursive: true });
  const pipes = Array.from({ length: frames.length + 1 }, (_, i) => join(cameraDir, pipeName(i)));
  execFileSync('mkfifo', pipes);
  const httpPort = await freePort();
  const configPath = join(options.dir, 'config.yaml');
  // Everything else is the embedded defaults: the vision settings under evaluation are the shipped ones.
  const config = {
    device_id: options.deviceId,
    data_dir: join(options.dir, 'data'),
    camera: { driver: 'dir', dir: cameraDir, fps: options.fps, loop: false },
    intruder: { model: options.model },
    sensor: { driver: 'none' },
    forecast: { enabled: false },
    mqtt: { url: options.brokerUrl },
    http: { port: httpPort },
  };
  await writeFile(configPath, stringify(config));

  const alerts: AlertSeen[] = [];
  let stopping = false;
  const subscriber = await mqtt.connectAsync(options.brokerUrl, { clientId: `eval-${options.deviceId}` });
  subscriber.on('message', (_topic, payload) => alerts.push({ receivedAt: Date.now(), afterStop: stopping, payload: JSON.parse(payload.toString()) as IntruderAlertPayload }));
  await subscriber.subscribeAsync(`${mqttBaseTopic(defaultConfig().mqtt, options.deviceId)}/${Topic.intruderAlert}`, { qos: 1 });
  const agent = await startAgent({ cli: options.cli, configPath, nodeFlags: options.nodeFlags, env: options.env });
  const stop = async () => {
    stopping = true;
    const stopped = agent.stop().then(() => true);
    while (!(await valueWithin(stopped, 100, false))) await releaseReaders(pipes);
  };
  try {
    const shownAt: number[] = [];
    const intervalMs = 1000 / options.fps;
    let dueAt = Date.now();
    let inferencesBefore: number | null = null;
    for (const [i, jpeg] of frames.entries()) {
      await sleep(Math.max(0, dueAt - Date.now()));
      if (i === options.countFrom) inferencesBefore = (await visionStats(httpPort)).inferences;
      await deliver(pipes[i]!, jpeg);
      shownAt.push(Date.now());
      dueAt += intervalMs;
    }
    await sleep(options.settleMs);
    const stats = await visionStats(httpPort);
    await stop();
    return { shownAt, alerts, stats, inferencesBefore, readyMs: agent.readyMs };
  } finally {
    if (!stopping) await stop();
    await subscriber.endAsync();
  }
}
