/**
 * `edge-agent run`: the daemon. Loads the configuration (exit 78 listing every problem) and runs it
 * (agent/daemon/run.ts); exit 0 after a graceful stop on SIGTERM/SIGINT.
 */
import { loadConfig } from '../config/load.js';
import type { LogLevel } from '../config/types.js';
import { runDaemon } from '../daemon/run.js';
import { ExitCode } from '../lib/exit-codes.js';
import { createLogger } from '../lib/log.js';
import { parseCommandArgs } from './args.js';

const USAGE = `usage: edge-agent run [options]

Runs the agent. Without --config it runs the embedded demo: simulated temperature sensor, the shipped
forecaster, camera off, an MQTT broker on 127.0.0.1:1883, the database under ./data.

options:
  --config FILE       YAML or JSON configuration (see systemd/config.example.yaml)
  --camera-dir DIR    replay the images of DIR as the camera (camera.driver dir, looping)
  --data-dir DIR      database, snapshots and installed models (data_dir)
  --device-id ID      device_id
  --mqtt-url URL      broker URL (mqtt.url), e.g. mqtt://192.168.1.10:1883
  --log-level LEVEL   fatal, error, warn, info, debug, trace or silent
  --verbose           print a stack trace with an error`;

export async function main(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    config: { type: 'string' },
    'camera-dir': { type: 'string' },
    'data-dir': { type: 'string' },
    'device-id': { type: 'string' },
    'mqtt-url': { type: 'string' },
    'log-level': { type: 'string' },
    verbose: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return ExitCode.OK;
  }
  const cameraDir = values['camera-dir'];
  const config = loadConfig({
    file: values.config,
    overrides: {
      data_dir: values['data-dir'],
      device_id: values['device-id'],
      log_level: values['log-level'] as LogLevel | undefined,
      mqtt: { url: values['mqtt-url'] },
      camera: cameraDir === undefined ? undefined : { driver: 'dir', dir: cameraDir, loop: true },
    },
  });
  const logger = createLogger(config.log_level);
  return runDaemon(config, logger);
}
