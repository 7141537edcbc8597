/**
 * The calibration's worker thread: lowers its own priority (nice 19, this thread only on Linux, so the
 * detector and the event loop keep the CPU), reads the readings from the database file, runs the job
 * and posts the candidate back with what it cost. Started by run-worker.ts with the job as workerData.
 */
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { openReadingsReader } from '../../store/readings-reader.js';
import { runCalibration, type CalibrationCost, type CalibrationJob, type WorkerReply } from './job.js';

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on Linux, Raspberry Pi OS included). */
const TICKS_PER_SECOND = 100;

/** CPU time of this thread in ms (/proc/thread-self/stat: utime + stime), or null off Linux. */
function threadCpuMs(): number | null {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

function heapBytes(): number {
  const heap = getHeapStatistics();
  return heap.used_heap_size + heap.external_memory;
}

function calibrate(job: CalibrationJob): WorkerReply {
  try {
    setPriority(19);
  } catch {
    // Not allowed (some containers): the fit is short, it runs at normal priority.
  }
  const startCpu = threadCpuMs();
  const startWall = performance.now();
  let peak = heapBytes();
  const sample = () => {
    peak = Math.max(peak, heapBytes());
  };
  const cost = (): CalibrationCost => {
    const cpu = threadCpuMs();
    return { cpu_ms: cpu === null || startCpu === null ? null : cpu - startCpu, wall_ms: Math.round(performance.now() - startWall), peak_bytes: peak };
  };
  const reader = openReadingsReader(job.dbPath);
  try {
    const fit = runCalibration(reader.validReadings(job.fromTs, job.endTs), job, sample);
    return { ok: true, fit, cost: cost() };
  } catch (err) {
    return { ok: false, error: (err as Error).message, cost: cost() };
  } finally {
    reader.close();
  }
}

const reply = calibrate(workerData as CalibrationJob);
// The held-out windows move (not copied); the model (about 1 KB, maybe in a shared pool buffer) is copied.
parentPort?.postMessage(reply, reply.ok ? [reply.fit.holdout.windows.buffer as ArrayBuffer] : []);
