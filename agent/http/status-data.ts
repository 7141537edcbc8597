/**
 * The status page's JSON (`GET /api/status`): health, the last 24 h of temperature with the forecasts
 * placed at the time they predict and, once matured, what happened then; the active model's score; the
 * latest intrusion events and which snapshot to show.
 */
import type { DetectionRecord, ValidReading } from '../store/types.js';
import type { ModelRef, ScoreWindowPayload } from '../mqtt/contract/topics.js';
import { scoreWindow } from '../telemetry/self-scoring.js';
import type { BoundingBox } from '../../models/types.js';
import type { HealthSummary } from './routes-ops.js';
import type { SceneLayout, StatusDataSource } from './types.js';
import type { IntruderConfig, MotionConfig } from '../config/types.js';

export const DAY_MS = 24 * 60 * 60 * 1000;
/** A phone screen cannot show more points than this; 24 h of 1 s readings would be 86,400. */
export const MAX_CHART_POINTS = 720;
export const RECENT_DETECTIONS = 50;
const EVENTS_SHOWN = 20;

export interface StatusPayload {
  health: HealthSummary;
  temperature: {
    /** [ms since the epoch, °C], oldest first. */
    readings: [number, number][];
    /** `actual`: the reading at the target time, once it came (null before, or when none did). */
    forecasts: { made_at: number; target_ts: number; celsius: number; model: ModelRef; actual: number | null }[];
  };
  /** The active forecast model's rolling errors against persistence (null while no forecast model is loaded). */
  forecast_score: { model: ModelRef; last_24h: ScoreWindowPayload; last_7d: ScoreWindowPayload } | null;
  intrusions: { event_id: string; event: string; ts: number; objects: { class: string; confidence: number; bbox: BoundingBox }[] }[];
  /** The newest detection with a snapshot on disk (served by `GET /api/snapshot`). */
  snapshot: { event_id: string; ts: number } | null;
}

/** Averages readings into at most `maxPoints` equal time buckets (keeps every reading when fewer). */
export function downsample(readings: readonly ValidReading[], maxPoints: number): [number, number][] {
  if (readings.length <= maxPoints) return readings.map((r) => [r.ts, r.celsius]);
  const first = readings[0]!.ts;
  const span = readings[readings.length - 1]!.ts - first + 1;
  const sums = new Map<number, { ts: number; celsius: number; n: number }>();
  for (const r of readings) {
    const bucket = Math.floor(((r.ts - first) / span) * maxPoints);
    const sum = sums.get(bucket) ?? { ts: 0, celsius: 0, n: 0 };
    sum.ts += r.ts;
    sum.celsius += r.celsius;
    sum.n += 1;
    sums.set(bucket, sum);
  }
  return [...sums.values()].map((s) => [Math.round(s.ts / s.n), Math.round((s.celsius / s.n) * 100) / 100]);
}

/** The zones and masks the status page draws over a camera's newest frame, as configured now. */
export function sceneLayout(camera: { intruder: Pick<IntruderConfig, 'zones' | 'masks' | 'required_zones'>; motion: Pick<MotionConfig, 'masks'>; alarmZones: () => readonly string[] }): SceneLayout {
  return {
    zones: camera.intruder.zones.map((z) => ({ name: z.name, points: z.points })),
    object_masks: camera.intruder.masks,
    motion_masks: camera.motion.masks,
    required_zones: camera.intruder.required_zones,
    alarm_zones: [...camera.alarmZones()],
  };
}

export function latestSnapshot(detections: readonly DetectionRecord[]): DetectionRecord | null {
  return detections.find((d) => d.snapshot !== null) ?? null;
}

export function statusPayload(source: StatusDataSource, health: HealthSummary, now: number): StatusPayload {
  const since = now - DAY_MS;
  const detections = source.recentDetections(RECENT_DETECTIONS);
  const snapshot = latestSnapshot(detections);
  const actual = new Map(source.scores.scoredSince(since).map((s) => [s.forecast_id, s.actual_celsius]));
  const model = health.models.forecast;
  return {
    health,
    temperature: {
      readings: downsample(source.validReadingsSince(since), MAX_CHART_POINTS),
      forecasts: source.forecastsSince(since).map((f) => ({
        made_at: f.ts,
        target_ts: f.to_ts + f.horizon_s * 1000,
        celsius: f.predicted_celsius,
        model: f.model,
        actual: actual.get(f.id) ?? null,
      })),
    },
    forecast_score: model && {
      model,
      last_24h: scoreWindow(source.scores.summary(now - DAY_MS, now, model)),
      last_7d: scoreWindow(source.scores.summary(now - 7 * DAY_MS, now, model)),
    },
    intrusions: detections.slice(0, EVENTS_SHOWN).map((d) => ({ event_id: d.event_id, event: d.event, ts: d.ts, objects: d.objects })),
    snapshot: snapshot ? { event_id: snapshot.event_id, ts: snapshot.ts } : null,
  };
}
