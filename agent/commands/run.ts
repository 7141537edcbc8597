/**
 * `edge-agent run`: the daemon. Loads the configuration (exit 78 listing every problem) and runs it
 * (agent/daemon/run.ts); exit 0 after a graceful stop on SIGTERM/SIGINT.
 */
import { loadConfig } from '../config/load.js';
import type { AgentConfig, LogLevel } from '../config/types.js';
import { runDaemon } from '../daemon/run.js';
import { createLogger } from '../lib/log.js';
import { defineCommand, type OptionValues } from './command.js';

const usage = (defaults: AgentConfig) => `usage: edge-agent run [options]

Runs the agent. Without --config it runs the embedded demo: simulated temperature sensor, the shipped
forecaster, camera off, an MQTT broker on ${defaults.mqtt.embedded_broker.host}:${defaults.mqtt.embedded_broker.port}, the database under ${defaults.data_dir}.

options:
  --config FILE       YAML or JSON configuration (see systemd/config.example.yaml)
  --camera-dir DIR    replay the images of DIR as the camera (camera.driver dir, looping)
  --data-dir DIR      database, snapshots and installed models (data_dir, default ${defaults.data_dir})
  --device-id ID      device_id (default: the host name)
  --mqtt-url URL      broker URL (mqtt.url, default ${defaults.mqtt.url})
  --log-level LEVEL   fatal, error, warn, info, debug, trace or silent (log_level, default ${defaults.log_level})
  --verbose           print a stack trace with an error`;

const OPTIONS = {
  config: { type: 'string' },
  'camera-dir': { type: 'string' },
  'data-dir': { type: 'string' },
  'device-id': { type: 'string' },
  'mqtt-url': { type: 'string' },
  'log-level': { type: 'string' },
} as const;

export const command = defineCommand({ usage, options: OPTIONS, run: ({ values }) => main(values) });

async function main(values: OptionValues<typeof OPTIONS>): Promise<number> {
  const cameraDir = values['camera-dir'];
  const source = {
    file: values.config,
    overrides: {
      data_dir: values['data-dir'],
      device_id: values['device-id'],
      log_level: values['log-level'] as LogLevel | undefined,
      mqtt: { url: values['mqtt-url'] },
      camera: cameraDir === undefined ? undefined : { driver: 'dir', dir: cameraDir, loop: true },
    },
  };
  const config = loadConfig(source);
  // The daemon logs JSON on stdout for journald, not on the CLI's stderr.
  const logger = createLogger(config.log_level);
  return runDaemon(config, logger, source);
}
