/**
 * What one sequence's run says against the issue's targets: intrusions raised (start alerts), false
 * alarms, a missed intruder, the seconds from the first frame showing the intruder to its alert at the
 * subscriber, inferences per frame; and the PASS/FAIL verdicts over all sequences.
 */
import { median } from '../../../agent/vision/object-tracker.js';
import type { AgentRun } from './agent-run.js';
import type { SequenceKind } from './sequences.js';

export interface SequenceFigures {
  name: string;
  kind: SequenceKind;
  frames: number;
  inferences: number;
  /** Frames from the first showing the subject (the intruder or the look-alike) to the end; null when nothing appears. */
  framesInView: number | null;
  /** Detector runs on those frames. */
  analysedInView: number | null;
  /** Start alerts received while the sequence ran (each message counted once: QoS 1 may deliver twice). */
  intrusions: number;
  /** Start alerts without an intruder: on a sequence without one, or before it showed. */
  falseAlarms: number;
  missed: boolean;
  /** From the first frame showing the intruder reaching the camera to the first start alert at the subscriber. */
  latencyS: number | null;
  updates: number;
  /** End alerts received while the sequence ran (not the one a stopping agent sends). */
  ends: number;
  /** Distinct events the alerts belonged to. */
  events: number;
  /** Whether the objects of the `end` a stopping agent sent were stationary (null: no such end arrived). */
  stationaryAtStop: boolean | null;
}

export function sequenceFigures(sequence: { name: string; kind: SequenceKind; firstSubjectFrame: number | null }, run: AgentRun): SequenceFigures {
  const seen = new Set<string>();
  const alerts = run.alerts.filter((a) => !a.afterStop && !seen.has(a.payload.id) && seen.add(a.payload.id));
  const endAtStop = run.alerts.findLast((a) => a.afterStop && a.payload.event === 'end');
  const starts = alerts.filter((a) => a.payload.event === 'start');
  const subjectFrom = sequence.firstSubjectFrame;
  const intruderShownAt = subjectFrom === null || sequence.kind === 'no intruder' ? null : run.shownAt[subjectFrom]!;
  const genuine = intruderShownAt === null ? [] : starts.filter((a) => a.receivedAt >= intruderShownAt);
  return {
    name: sequence.name,
    kind: sequence.kind,
    frames: run.stats.frames,
    inferences: run.stats.inferences,
    framesInView: subjectFrom === null ? null : run.shownAt.length - subjectFrom,
    analysedInView: run.inferencesBefore === null ? null : run.stats.inferences - run.inferencesBefore,
    intrusions: starts.length,
    falseAlarms: starts.length - genuine.length,
    missed: intruderShownAt !== null && genuine.length === 0,
    latencyS: intruderShownAt === null || genuine.length === 0 ? null : (genuine[0]!.receivedAt - intruderShownAt) / 1000,
    updates: alerts.filter((a) => a.payload.event === 'update').length,
    ends: alerts.filter((a) => a.payload.event === 'end').length,
    events: new Set(alerts.map((a) => a.payload.event_id)).size,
    stationaryAtStop: endAtStop ? endAtStop.payload.objects.length > 0 && endAtStop.payload.objects.every((o) => o.stationary) : null,
  };
}

export interface Verdict {
  pass: boolean;
  target: string;
  detail: string;
}

export interface Targets {
  /** Alert latency target (s). */
  latencyS: number;
  fps: number;
  /** The default intruder.tracking.min_frames. */
  minFrames: number;
}

/**
 * The largest min_frames whose wait, with the slowest rest of the path measured (inference, commit,
 * MQTT: latency minus the frames confirmation waited for), stays within the target; null if none does.
 */
export function minFramesWithin(latencies: readonly number[], targets: Targets): number | null {
  const waited = (targets.minFrames - 1) / targets.fps;
  const rest = Math.max(...latencies.map((l) => l - waited));
  const frames = Math.floor((targets.latencyS - rest) * targets.fps) + 1;
  return frames >= 1 ? frames : null;
}

const stillness = (f: SequenceFigures) =>
  f.stationaryAtStop === null ? 'no end alert when the agent stopped, stationary unknown' : `stationary in the end alert sent as the agent stopped: ${f.stationaryAtStop ? 'yes' : 'NO'}`;

const names = (figures: readonly SequenceFigures[]) => figures.map((f) => f.name).join('; ');

export function verdicts(all: readonly SequenceFigures[], targets: Targets): Verdict[] {
  const withoutIntruder = all.filter((f) => f.kind === 'no intruder');
  const withIntruder = all.filter((f) => f.kind !== 'no intruder');
  const alerted = withoutIntruder.filter((f) => f.intrusions > 0);
  const notOnce = withIntruder.filter((f) => f.intrusions !== 1 || f.falseAlarms > 0);
  const latencies = withIntruder.flatMap((f) => (f.latencyS === null ? [] : [f.latencyS]));
  const slow = withIntruder.filter((f) => f.latencyS === null || f.latencyS > targets.latencyS);
  const standing = withIntruder.filter((f) => f.kind === 'standing intruder');
  const restless = standing.filter((f) => f.intrusions !== 1 || f.ends > 0 || f.events !== 1);

  let latencyDetail = `worst ${latencies.length ? Math.max(...latencies).toFixed(2) : '-'} s, median ${latencies.length ? median(latencies).toFixed(2) : '-'} s over ${latencies.length} alerts at ${targets.fps} fps with min_frames ${targets.minFrames}`;
  if (slow.length > 0) {
    const reach = latencies.length ? minFramesWithin(latencies, targets) : null;
    latencyDetail += `; over ${targets.latencyS} s or missed: ${names(slow)}; ${reach === null ? `no min_frames reaches ${targets.latencyS} s with the rest of the path measured here` : `min_frames ${reach} would reach it with the slowest rest of the path measured here`}`;
  }
  return [
    {
      pass: alerted.length === 0,
      target: 'no alert on sequences without an intruder',
      detail: alerted.length === 0 ? `${withoutIntruder.length} sequences, 0 alerts` : `alerted: ${alerted.map((f) => `${f.name} (${f.intrusions})`).join('; ')}`,
    },
    {
      pass: notOnce.length === 0,
      target: 'every intruder sequence alerts exactly once',
      detail: notOnce.length === 0 ? `${withIntruder.length} sequences, 1 alert each` : `not exactly once: ${notOnce.map((f) => `${f.name} (${f.intrusions} alerts, ${f.falseAlarms} before the intruder)`).join('; ')}`,
    },
    { pass: slow.length === 0, target: `each alert within ${targets.latencyS} s at ${targets.fps} fps`, detail: latencyDetail },
    {
      pass: standing.length > 0 && restless.length === 0,
      target: 'a standing intruder keeps the event open and does not re-alert',
      detail:
        standing.length === 0
          ? 'no standing sequence ran'
          : standing.map((f) => `${f.name}: ${f.intrusions} start, ${f.updates} updates, ${f.ends} ends, ${f.events} event(s) over ${(f.frames / targets.fps).toFixed(0)} s; ${stillness(f)}`).join('; '),
    },
  ];
}
