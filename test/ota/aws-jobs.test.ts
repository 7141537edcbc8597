import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { captureLog } from '../helpers/log-capture.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { TestDevice } from './device.js';
import { intruderModel, OtaHarness, sha256 } from './harness.js';
import { JobsResponder } from './jobs-responder.js';

const THING = 'garage-pi';
const goodSha = sha256(intruderModel);

let broker: Mosquitto;
let h: OtaHarness;
let jobs: JobsResponder;
let device: TestDevice | null = null;

beforeAll(async () => {
  broker = await Mosquitto.start();
  h = await OtaHarness.start();
  jobs = await JobsResponder.start(broker.url, THING);
});

afterEach(async () => {
  await device?.stop();
  device = null;
});

afterAll(async () => {
  await jobs?.close();
  await h?.close();
  await broker?.dispose();
});

const startDevice = async () => (device = await TestDevice.start(broker.url, h, { thingName: THING }));
/** A job left IN_PROGRESS by a device that restarted during attempt `attempt`, and what the device does with it. */
async function resumeAfterRestart(jobId: string, document: ReturnType<typeof update>, attempt: string, outcome: 'SUCCEEDED' | 'FAILED') {
  jobs.addJob(jobId, document, { status: 'IN_PROGRESS', statusDetails: { attempt, stage: 'validating', role: 'intruder', version: document.version } });
  await startDevice();
  return jobs.waitFor(jobId, outcome);
}

/** A signed update job (the device requires signatures, as the daemon does). */
const update = (version: string, url: string, extra: { sha256?: string; padding?: string } = {}) => {
  const sha = extra.sha256 ?? goodSha;
  return { operation: 'model-update', role: 'intruder', version, url, sha256: sha, signature: h.sign({ role: 'intruder', version, sha256: sha }), ...extra };
};

describe('model updates as AWS IoT Jobs', () => {
  it('takes a job announced by notify-next and reports IN_PROGRESS then SUCCEEDED with role and version', async () => {
    await startDevice();
    jobs.addJob('update-1', update('1', h.serveIntruder('/jobs/v1/yolov8n-int8.onnx')));
    const done = await jobs.waitFor('update-1', 'SUCCEEDED');

    const history = jobs.updatesOf('update-1');
    expect(history[0]).toEqual({
      jobId: 'update-1',
      status: 'IN_PROGRESS',
      statusDetails: { attempt: '1', operation: 'model-update', role: 'intruder', version: '1', stage: 'started' },
    });
    const stages = history.filter((u) => u.status === 'IN_PROGRESS').map((u) => u.statusDetails['stage']);
    expect(stages).toEqual(expect.arrayContaining(['downloading', 'validating', 'activating']));
    expect(history.some((u) => u.statusDetails['progress'] === '100%')).toBe(true);
    expect(done.statusDetails).toEqual({ attempt: '1', operation: 'model-update', role: 'intruder', version: '1', name: 'yolov8n-int8', sha256: goodSha });
    expect(h.intruderSlot.current()?.info.version).toBe('1');
  });

  it('fails bad jobs with the reason in statusDetails and goes on with the next queued job', async () => {
    jobs.addJob('bad-sha', update('2', h.serveIntruder('/jobs/v2.onnx'), { sha256: 'a'.repeat(64) }));
    jobs.addJob('too-big', update('3', h.serveIntruder('/jobs/v3.onnx'), { padding: 'x'.repeat(33 * 1024) }));
    jobs.addJob('unknown-op', { operation: 'reboot' });
    const { signature: _, ...unsigned } = update('7', h.serveIntruder('/jobs/v7.onnx'));
    jobs.addJob('unsigned', unsigned);
    jobs.addJob('good', update('4', h.serveIntruder('/jobs/v4.onnx')));
    await startDevice(); // queued while the device was away: it asks start-next when it connects

    expect((await jobs.waitFor('bad-sha', 'FAILED')).statusDetails).toMatchObject({
      role: 'intruder',
      version: '2',
      code: 'checksum_mismatch',
      reason: expect.stringMatching(/^sha256 mismatch: expected a{64}, the downloaded file has [0-9a-f]{64}$/),
    });
    expect((await jobs.waitFor('too-big', 'FAILED')).statusDetails).toMatchObject({
      code: 'invalid_request',
      reason: expect.stringMatching(/^job document is \d+ bytes, over the 32768-byte AWS IoT Jobs limit$/),
    });
    expect((await jobs.waitFor('unknown-op', 'FAILED')).statusDetails['reason']).toBe('unknown operation "reboot" (expected model-update or model-rollback)');
    expect((await jobs.waitFor('unsigned', 'FAILED')).statusDetails).toMatchObject({ version: '7', code: 'signature_missing' });
    expect((await jobs.waitFor('good', 'SUCCEEDED')).statusDetails['version']).toBe('4');
    expect(h.intruderSlot.current()?.info.version).toBe('4');
  });

  it('cuts what a job document says before logging or reporting it', async () => {
    const log = captureLog('info');
    device = await TestDevice.start(broker.url, h, { thingName: THING, logger: log.logger });
    jobs.addJob('huge-names', { operation: 'model-update', role: 'r'.repeat(20_000), version: 'v'.repeat(10_000), url: 'https://x/m.onnx', sha256: goodSha });
    const failed = await jobs.waitFor('huge-names', 'FAILED');
    expect(failed.statusDetails).toMatchObject({ code: 'invalid_request', role: `${'r'.repeat(128)}…`, version: `${'v'.repeat(128)}…` });
    const lines = log.lines.map((line) => JSON.stringify(line));
    expect(lines.some((line) => line.includes('job huge-names failed'))).toBe(true);
    expect(Math.max(...lines.map((line) => line.length))).toBeLessThan(2_000);
  });

  it('runs a rollback job', async () => {
    await startDevice();
    jobs.addJob('rollback-1', { operation: 'model-rollback', role: 'intruder' });
    expect((await jobs.waitFor('rollback-1', 'SUCCEEDED')).statusDetails).toMatchObject({ operation: 'model-rollback', role: 'intruder', version: '1' });
    expect(h.intruderSlot.current()?.info.version).toBe('1');
  });

  it('leaves a job interrupted by the agent stopping IN_PROGRESS and resumes it at the next start', async () => {
    await startDevice();
    const before = jobs.updates.length;
    jobs.addJob('interrupted', update('5', h.serveIntruder('/jobs/v5.onnx', { chunkSize: 32 * 1024, chunkDelayMs: 30 })));
    const downloading = () => jobs.updates.slice(before).some((u) => u.jobId === 'interrupted' && u.statusDetails['stage'] === 'downloading');
    await expect.poll(downloading, { message: 'the job reports downloading' }).toBe(true);
    await device!.stop();
    device = null;
    expect(jobs.job('interrupted')).toMatchObject({ status: 'IN_PROGRESS', statusDetails: { attempt: '1' } });
    expect(h.intruderSlot.current()?.info.version).toBe('1');

    await startDevice();
    const done = await jobs.waitFor('interrupted', 'SUCCEEDED');
    expect(done.statusDetails).toMatchObject({ attempt: '2', version: '5' });
    expect(h.intruderSlot.current()?.info.version).toBe('5');
  });

  it('reports SUCCEEDED at once for a resumed job whose version is already active', async () => {
    const requests = h.server.requests.length;
    const done = await resumeAfterRestart('activated-before-reboot', update('5', h.serveIntruder('/jobs/v5-again.onnx')), '1', 'SUCCEEDED');
    expect(done.statusDetails).toMatchObject({ attempt: '2', version: '5', reason: 'already active (resumed after a restart)' });
    expect(h.server.requests.length).toBe(requests);
  });

  it('fails a job that restarts kept interrupting', async () => {
    const failed = await resumeAfterRestart('crash-loop', update('6', h.serveIntruder('/jobs/v6.onnx')), '2', 'FAILED');
    expect(failed.statusDetails).toMatchObject({ attempt: '3', code: 'interrupted', reason: 'interrupted 2 times by a restart before it could finish' });
    expect(h.intruderSlot.current()?.info.version).toBe('5');
  });
});
