/** The configuration the end-to-end tests run the daemon with: real fixtures, a test broker, no HTTP. */
import { fixture } from '../helpers/fixtures.js';

export function e2eConfig(options: { deviceId: string; brokerUrl: string; cameraDir?: string; speed?: number; loop?: boolean; everyS?: number }) {
  return {
    device_id: options.deviceId,
    log_level: 'info',
    camera: options.cameraDir ? { driver: 'dir', dir: options.cameraDir, fps: 4, loop: true } : { driver: 'none' },
    motion: { enabled: true, max_skip_s: 2 },
    // One intra-op thread: several agents and other test suites share two cores.
    intruder: { model: fixture('models/yolov8n-int8.onnx'), threads: 1, clear_after_s: 1, cooldown_s: 0 },
    sensor: {
      driver: 'replay',
      file: fixture('data/occupancy/datatest.txt'),
      column: 'Temperature',
      speed: options.speed ?? 3000,
      loop: options.loop ?? true,
      interval_s: 60,
    },
    // The file's temperature falls from 23.7 °C over its first hours: a low alert comes early.
    forecast: { every_s: options.everyS ?? 600, low_c: 22.8, hysteresis_c: 0.3 },
    mqtt: { url: options.brokerUrl, embedded_broker: { enabled: false } },
    alarm: { gpio: null, hold_s: 1 },
    http: { enabled: false },
  };
}
