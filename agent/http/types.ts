/**
 * What the HTTP server needs from the rest of the agent. Everything comes in through the constructor:
 * the daemon passes the agent's model slots, health and SqliteStore; tests pass the same kinds of objects.
 */
import type { AgentConfig, FramePolygon } from '../config/types.js';
import type { EventBus } from '../runtime/event-bus.js';
import type { HealthReport } from '../daemon/agent.js';
import type { DetectionRecord, ForecastRecord, ValidReading } from '../store/types.js';
import type { ForecastScores } from '../store/scores.js';
import type { Logger } from '../lib/log.js';
import type { ModelSlot } from '../runtime/model-slot.js';
import type { Forecaster, IntruderDetector } from '../../models/types.js';
import type { AgentMetrics } from './metrics.js';

export type { HealthReport };

/** The status page's data: the part of SqliteStore it reads (synchronous, like better-sqlite3). */
export interface StatusDataSource {
  /** Valid readings with `ts >= sinceTs`, oldest first. */
  validReadingsSince(sinceTs: number): ValidReading[];
  /** Forecasts made at `ts >= sinceTs`, oldest first. */
  forecastsSince(sinceTs: number): ForecastRecord[];
  /** The latest detection records, newest first. */
  recentDetections(limit: number): DetectionRecord[];
  /** What the matured forecasts were worth (agent/store/scores.ts). */
  readonly scores: Pick<ForecastScores, 'scoredSince' | 'summary'>;
}

/** What the status page draws the zones and masks over: the camera's newest frame and the layout now. */
export interface SceneSource {
  /** The camera's name (`main`: the one camera of `camera:`). */
  camera: string;
  /** The newest camera frame as JPEG with its time, null before the first (or without a camera). */
  latestFrame(): Promise<{ jpeg: Buffer; ts: number } | null>;
  /** Zones and masks as configured now (a live change included), in fractions of the frame. */
  layout(): SceneLayout;
}

export interface SceneLayout {
  zones: { name: string; points: FramePolygon }[];
  object_masks: FramePolygon[];
  motion_masks: FramePolygon[];
  required_zones: string[];
  alarm_zones: string[];
}

export interface HttpServerDeps {
  config: Pick<AgentConfig, 'device_id' | 'http'>;
  detector: ModelSlot<IntruderDetector>;
  forecaster: ModelSlot<Forecaster>;
  health: () => HealthReport;
  status: StatusDataSource;
  /** Each camera's scene, the first shown by default (none: no camera configured, `GET /api/frame` answers 404). */
  scenes?: readonly SceneSource[];
  metrics: AgentMetrics;
  /** HTTP inferences are reported as `inference` events, like the pipelines' own. */
  bus?: EventBus;
  logger: Logger;
  /** Milliseconds since the epoch; injected so tests control rate limits and uptimes. */
  now?: () => number;
}
