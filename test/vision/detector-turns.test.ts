import { describe, expect, it } from 'vitest';
import { DetectorTurns } from '../../agent/vision/detector-turns.js';

/** A job that stays in the detector until released, recording when it ran. */
function gatedJob(log: string[], name: string) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const job = async () => {
    log.push(name);
    started();
    await released;
    return name;
  };
  return { job, release, running };
}

describe('DetectorTurns', () => {
  it('runs one job at a time', async () => {
    const turns = new DetectorTurns();
    let inside = 0;
    let most = 0;
    const job = async () => {
      most = Math.max(most, ++inside);
      await new Promise((resolve) => setImmediate(resolve));
      inside--;
    };
    await Promise.all(['a', 'b', 'c', 'a', 'b'].map((camera) => turns.run(camera, job)));
    expect(most).toBe(1);
  });

  it('serves a quiet camera between the frames of a busy one (round robin over the cameras waiting)', async () => {
    const turns = new DetectorTurns();
    const log: string[] = [];
    // The busy camera holds the detector and queues three more frames; then the quiet one asks once.
    const first = gatedJob(log, 'busy-1');
    const runs = [turns.run('busy', first.job)];
    const busy = [2, 3, 4].map((n) => gatedJob(log, `busy-${n}`));
    runs.push(...busy.map((b) => turns.run('busy', b.job)));
    const quiet = gatedJob(log, 'quiet-1');
    runs.push(turns.run('quiet', quiet.job));
    await first.running;
    first.release();
    // busy-2 waited longer than quiet-1, so it goes next; then quiet-1, before busy-3.
    await busy[0]!.running;
    busy[0]!.release();
    await quiet.running;
    quiet.release();
    for (const b of busy.slice(1)) {
      await b.running;
      b.release();
    }
    expect(await Promise.all(runs)).toEqual(['busy-1', 'busy-2', 'busy-3', 'busy-4', 'quiet-1']);
    expect(log).toEqual(['busy-1', 'busy-2', 'quiet-1', 'busy-3', 'busy-4']);
  });

  it('hands the detector on when a job fails', async () => {
    const turns = new DetectorTurns();
    const failing = turns.run('a', async () => {
      throw new Error('bad frame');
    });
    const next = turns.run('b', async () => 'b ran');
    await expect(failing).rejects.toThrow('bad frame');
    await expect(next).resolves.toBe('b ran');
  });
});
