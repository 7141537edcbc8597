/**
 * What the platform looks like from inside the agent's runtime: run on x86-64 and under arm64 emulation
 * by scripts/arm64/check.sh, so the two can be read side by side (docs/arm64.md records what differs).
 * It also loads every native addon the agent may load, including those the emulated daemon run leaves
 * alone (i2c-bus and onoff's epoll are only loaded with an I2C sensor or a GPIO alarm), so an addon that
 * was cross-compiled wrongly fails here rather than on the Pi.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import Database from 'better-sqlite3';
import * as ort from '../../models/onnxruntime.js';
import sharp from 'sharp';
import { loadIntruderDetector } from '../../models/intruder.js';

/** Threads of this process: on Linux /proc/self/status counts every thread, native pools included. */
function threadCount(): number {
  return Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
}

async function loadNativeAddons(): Promise<{ sqlite: string; i2c_bus: boolean; gpio_accessible: boolean }> {
  const db = new Database(':memory:');
  const { version } = db.prepare('select sqlite_version() as version').get() as { version: string };
  db.close();
  const i2c = await import('i2c-bus');
  const { Gpio } = await import('onoff');
  return { sqlite: version, i2c_bus: typeof i2c.openPromisified === 'function', gpio_accessible: Gpio.accessible };
}

export async function probePlatform(modelPath: string): Promise<Record<string, unknown>> {
  const addons = await loadNativeAddons();
  const threadsBefore = threadCount();
  const detector = await loadIntruderDetector(modelPath);
  const threadsWithDetector = threadCount();
  await detector.close();
  const memory = process.memoryUsage();
  const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
  return {
    arch: process.arch,
    node: process.version,
    cpus: cpus().length,
    available_parallelism: availableParallelism(),
    onnxruntime: ort.env.versions.node,
    detector_threads_added: threadsWithDetector - threadsBefore,
    threads_with_detector: threadsWithDetector,
    vips: sharp.versions.vips,
    vips_threads: sharp.concurrency(),
    vips_simd: sharp.simd(),
    ...addons,
    heap_used_mb: mb(memory.heapUsed),
    external_mb: mb(memory.external),
  };
}
