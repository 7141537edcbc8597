/**
 * Typed events the services emit and the observers (metrics, Home Assistant, status page) listen to,
 * so pipelines know nothing of Prometheus. A throwing listener is logged, never propagated to the emitter.
 */
import type { Logger } from '../lib/log.js';
import type { DetectedObject } from '../../models/types.js';
import type { ForecastScorePayload } from '../mqtt/contract/topics.js';
import type { CalibrationOutcome } from '../telemetry/calibration/service.js';
import type { UpdateStage } from '../ota/updater.js';

export interface AgentEvents {
  'frame.captured': { camera: string };
  'frame.dropped': { camera: string; count: number };
  'frame.skipped': { reason: 'no_motion' | 'stationary' };
  'inference': { model: string; version: string; ms: number };
  'detections': { objects: DetectedObject[] };
  'intrusion': { camera: string; event: 'start' | 'update' | 'end'; event_id: string; objects: DetectedObject[]; snapshot: Buffer | null };
  'alarm': { on: boolean; reason: string };
  'reading': { valid: boolean; celsius: number | null; error?: string; sensor: string; ts: number };
  'forecast': { predicted_celsius: number; ts: number; horizon_s: number };
  'forecast.skipped': { reason: string };
  /** Forecasts matured and were scored: the rolling errors now (`ts`: the data time of the reading that settled them). */
  'forecast.score': Omit<ForecastScorePayload, 'id' | 'ts' | 'device'> & { ts: number };
  /** A forecast calibration ran (agent/telemetry/calibration/service.ts). */
  'forecast.calibration': CalibrationOutcome;
  'outbox.dropped': { count: number };
  'published': { topic: string; latency_ms: number };
  'mqtt.connection': { connected: boolean; reason?: string };
  'model.activated': { role: 'intruder' | 'forecast'; name: string; version: string };
  /** A model update (from any trigger) reached a stage, or got further in its download (percent: null when the length is unknown). */
  'model.update.progress': { role: 'intruder' | 'forecast'; version: string; stage: UpdateStage; percent: number | null };
  /** A model update failed: the serving model did not change. */
  'model.update.failed': { role: 'intruder' | 'forecast'; version: string; error: string };
  'pipeline.restart': { pipeline: string; error: string };
}

type Listener<K extends keyof AgentEvents> = (payload: AgentEvents[K]) => void;

export class EventBus {
  private readonly listeners = new Map<keyof AgentEvents, Set<{ owner: object; fn: Listener<never> }>>();

  constructor(private readonly logger: Logger) {}

  on<K extends keyof AgentEvents>(event: K, owner: object, fn: Listener<K>): void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add({ owner, fn: fn as Listener<never> });
  }

  emit<K extends keyof AgentEvents>(event: K, payload: AgentEvents[K]): void {
    for (const { fn } of this.listeners.get(event) ?? []) {
      try {
        (fn as Listener<K>)(payload);
      } catch (err) {
        this.logger.error({ err, event }, 'event listener failed');
      }
    }
  }

  /** Removes every listener an owner registered (a service's stop()). */
  removeListeners(owner: object): void {
    for (const set of this.listeners.values()) {
      for (const entry of set) if (entry.owner === owner) set.delete(entry);
    }
  }
}
