/**
 * Runs a calibration job in a worker thread (worker.ts), so the fit never blocks the event loop: the
 * relay, the HTTP API and the camera go on while it runs. The thread's heap is capped, so a bug or a
 * huge history costs the worker, never the daemon.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CalibrationJob, WorkerReply } from './job.js';

/** The compiled worker beside this module (dist/agent/telemetry/calibration/worker.js). */
export const CALIBRATION_WORKER = new URL('./worker.js', import.meta.url);

/** Enough for a year of one-minute steps; a run that needs more is a bug, and fails alone. */
const WORKER_HEAP_MB = 256;

export type WorkerRunner = (job: CalibrationJob, signal: AbortSignal) => Promise<WorkerReply>;

/** A runner for the worker script at `script` (tests, which run from source, pass the compiled one). */
export function workerRunner(script: URL = CALIBRATION_WORKER): WorkerRunner {
  return (job, signal) =>
    new Promise<WorkerReply>((resolve, reject) => {
      if (!existsSync(fileURLToPath(script))) {
        reject(new Error(`the calibration worker ${fileURLToPath(script)} is missing: run npm run build`));
        return;
      }
      const worker = new Worker(script, { workerData: job, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
      const stop = () => void worker.terminate();
      signal.addEventListener('abort', stop, { once: true });
      let settled = false;
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', stop);
        outcome();
      };
      worker.once('message', (reply: WorkerReply) => finish(() => resolve(reply)));
      worker.once('error', (err) => finish(() => reject(err)));
      worker.once('exit', (code) => finish(() => reject(new Error(signal.aborted ? 'calibration cancelled: the agent is stopping' : `the calibration worker exited with code ${code}`))));
    });
}
