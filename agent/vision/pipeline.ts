/**
 * The vision pipeline: camera -> motion gate -> intruder detector -> event tracker -> alarm and store.
 *
 * Frames are processed one at a time straight from the camera's iterator: while a frame is in the
 * detector, the camera keeps only its newest frame (the Camera seam's latest-frame-wins backpressure), so
 * a slow model drops frames instead of queueing them. While an intrusion is open, or a track is still
 * being confirmed, every frame goes to the detector (a person standing still makes no motion but must
 * keep the event alive, and confirmation needs several frames); otherwise only frames the motion gate
 * lets through do.
 *
 * An event is recorded (its row and outbox messages committed) before the alarm goes on, so an alarm
 * always has a durable alert behind it; the snapshot, slower to make, follows in its own transaction.
 * The snapshot shows the event's best frame with exactly that frame's boxes: the pipeline keeps the
 * JPEG of the open event's best frame, so a message sent later (an update held back by the rate limit)
 * still pairs boxes and pixels of one frame.
 *
 * With `alarm.zones`, the alarm sounds only for a moving object in one of them: at the start of an
 * event if one is there, else when one walks in later (after the start's record, through the same
 * queue), and only such objects keep it going.
 */
import { frameSize, type Camera, type Frame, type FrameImage } from '../../drivers/camera/index.js';
import type { DetectedObject, DetectionResult, IntruderDetector } from '../../models/types.js';
import type { ComponentHealth, Service } from '../runtime/service.js';
import type { AgentStore, DetectionRecord } from '../store/types.js';
import type { EventBus } from '../runtime/event-bus.js';
import type { IntrusionEvent, IntrusionTracker } from './intrusion-tracker.js';
import type { TrackedObject } from '../store/types.js';
import { inAlarmZone } from './zones.js';
import type { Logger } from '../lib/log.js';
import type { MessageBuilder } from '../mqtt/messages.js';
import type { ModelSlot } from '../runtime/model-slot.js';
import type { MotionGate } from './motion-gate.js';
import { DetectionPlanner, type DetectionPlanConfig } from './detection-plan.js';
import { detectInRegions } from './region-detector.js';
import { drawDetections, fitJpeg, type SnapshotFolder } from './snapshot.js';
import { Supervisor } from '../runtime/supervisor.js';
import { SerialQueue } from '../lib/serial-queue.js';
import { copyFrameImage } from '../lib/frame-image.js';
import { SINGLE_CAMERA } from './camera-profiles.js';
import { DetectorTurns } from './detector-turns.js';

export interface VisionDeps {
  /**
   * Which camera this pipeline watches: its name (payloads, logs, metrics) and its topic name (null: the
   * one camera of `camera:`, on the topics a one-camera agent always used).
   */
  camera?: { name: string; topicName: string | null };
  /** Cameras are single-use: a new one is made for every (re)start of the loop. */
  createCamera: () => Camera;
  gate: MotionGate;
  tracker: IntrusionTracker;
  detector: ModelSlot<IntruderDetector>;
  /** Shared by the pipelines of several cameras, so they take turns at the detector (default: its own). */
  turns?: DetectorTurns;
  store: Pick<AgentStore, 'saveDetection' | 'attachSnapshot'>;
  messages: MessageBuilder;
  alarm: { trigger(reason: string): void; extend(): void };
  /** `alarm.zones`, read at each frame (a live change applies at once); absent: anywhere. */
  alarmZones?: () => readonly string[];
  /** null: snapshots off. */
  snapshots: { folder: SnapshotFolder; maxBytes: number } | null;
  bus: EventBus;
  logger: Logger;
  now?: () => number;
  /** Motion regions and the stationary re-check cadence (default: regions off, re-check every frame). */
  plan?: DetectionPlanConfig;
  /** Monotonic clock of the detection plan (tests pass a fake one). */
  monotonicNow?: () => number;
}

/** A model that does not say its input size is taken to be Ultralytics' default export. */
const DEFAULT_INPUT_SIZE = { width: 640, height: 640 };
const WHOLE_FRAME_PLAN: DetectionPlanConfig = { regions: { enabled: false, full_frame_every_s: 0, min_size: 1 }, stationary: { recheck_every_frames: 1 } };

/** A frame and the boxes to draw on it: always of the same frame. */
interface Picture {
  image: FrameImage;
  objects: readonly DetectedObject[];
}

/** The pipeline's service name: `vision` for the one camera of `camera:`, `vision:<name>` for a camera of `cameras`. */
export function visionServiceName(topicName: string | null): string {
  return topicName === null ? 'vision' : `vision:${topicName}`;
}

/** How often an open event is checked for its end when no frame comes. */
const TICK_MS = 500;

export class VisionPipeline implements Service {
  /** `vision` for the one camera of `camera:`, `vision:<name>` for a camera of `cameras`. */
  readonly name: string;
  private readonly cameraName: string;
  private readonly topicName: string | null;
  private readonly turns: DetectorTurns;
  private readonly supervisor: Supervisor;
  private readonly planner: DetectionPlanner;
  private ticker: NodeJS.Timeout | null = null;
  /** Event handling runs one at a time (frames and the ticker both produce events). */
  private readonly events = new SerialQueue();
  private camera: Camera | null = null;
  /**
   * The newest frame the camera delivered (what the status page draws the zones over). The one camera
   * frame the pipeline holds on to: it is released when the next one comes, so its memory can take a
   * later frame; whatever must outlive it (the best frame, a status page picture) is copied.
   */
  private newest: Frame | null = null;
  /** The open event's best frame (a copy), by frame number. */
  private bestFrame: { seq: number; ts: number; image: FrameImage } | null = null;
  private stats = { frames: 0, inferences: 0, skipped: 0, bad_frames: 0, events: 0, last_inference_ms: null as number | null };
  private lastDropped = 0;
  private loggedNoModel = false;
  /** The event the alarm was switched on for (it sounds once per event; later movers extend it). */
  private alarmedEvent: string | null = null;
  /** A frame is between the camera and the trackers (the ticker then leaves the clock to that frame). */
  private analysing = false;
  /** Set before the camera is stopped, so the end of its stream is not taken for a crash. */
  private stopping = false;

  constructor(private readonly deps: VisionDeps) {
    this.cameraName = deps.camera?.name ?? SINGLE_CAMERA;
    this.topicName = deps.camera ? deps.camera.topicName : null;
    this.name = visionServiceName(this.topicName);
    this.turns = deps.turns ?? new DetectorTurns();
    this.supervisor = new Supervisor(this.name, (signal) => this.loop(signal), deps);
    this.planner = new DetectionPlanner(deps.plan ?? WHOLE_FRAME_PLAN, deps.monotonicNow);
  }

  private get now(): number {
    return (this.deps.now ?? Date.now)();
  }

  start(): Promise<void> {
    this.stopping = false;
    this.supervisor.start();
    this.ticker = setInterval(() => {
      // A frame in the detector is about to move the trackers on: ending the event now, before its
      // detections are seen, would end it early whenever inference is slower than clear_after_s (a
      // loaded board) and the frame would then reopen it as an update.
      if (this.analysing) return;
      const now = this.now;
      this.handle(this.deps.tracker.tick(now), now);
    }, TICK_MS);
    return Promise.resolve();
  }

  /** Stops the camera (ending the iteration), lets the frame in flight finish, and ends an open event. */
  async stop(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    this.stopping = true;
    await this.camera?.stop();
    await this.supervisor.stop();
    this.handle(this.deps.tracker.finish(), this.now);
    await this.events.drain();
  }

  /** The newest camera frame as JPEG (encoded only when asked: a raw frame costs ~10 ms to encode). */
  async latestFrame(): Promise<{ jpeg: Buffer; ts: number } | null> {
    const newest = this.newest;
    if (!newest) return null;
    // Copied before the first await: the frame may be released and its memory refilled meanwhile.
    const image = copyFrameImage(newest.image);
    return { jpeg: image.format === 'jpeg' ? image.data : await drawDetections(image, []), ts: newest.ts };
  }

  health(): ComponentHealth {
    const camera = this.camera?.stats() ?? null;
    const extra = { camera: this.cameraName, driver: this.camera?.name ?? null, camera_stats: camera, ...this.stats, restarts: this.supervisor.health().restarts };
    const supervised = this.supervisor.health();
    if (supervised.state === 'down') return { ...extra, state: 'down', detail: supervised.detail };
    if (!this.deps.detector.current()) return { ...extra, state: 'degraded', detail: 'no intruder model installed: frames are not analysed' };
    if (camera?.last_error) return { ...extra, state: 'degraded', detail: `camera: ${camera.last_error}` };
    return { ...extra, state: 'ok' };
  }

  private async loop(signal: AbortSignal): Promise<void> {
    const ending = () => signal.aborted || this.stopping;
    if (ending()) return;
    const camera = this.deps.createCamera();
    this.camera = camera;
    this.lastDropped = 0;
    this.deps.gate.reset();
    try {
      await camera.start();
      for await (const frame of camera) {
        this.analysing = true;
        try {
          await this.process(camera, frame);
        } finally {
          this.analysing = false;
        }
        if (ending()) return;
      }
    } finally {
      await camera.stop();
    }
    if (ending()) return;
    // The stream ended on its own: a new camera starts after the supervisor's backoff.
    throw new Error('the camera stream ended');
  }

  private async process(camera: Camera, frame: Frame): Promise<void> {
    const { bus } = this.deps;
    this.stats.frames++;
    this.newest?.release();
    this.newest = frame;
    bus.emit('frame.captured', { camera: this.cameraName });
    const dropped = camera.stats().dropped;
    if (dropped > this.lastDropped) bus.emit('frame.dropped', { camera: this.cameraName, count: dropped - this.lastDropped });
    this.lastDropped = dropped;

    const result = await this.detect(frame);
    if (result === null) return;
    const { tracker } = this.deps;
    const wasActive = tracker.active;
    const { events, movers } = tracker.observe(result.objects, { seq: frame.seq, ts: frame.ts, ...result.image });
    const best = tracker.bestFrame;
    if (best?.seq === frame.seq && best.ts === frame.ts) this.bestFrame = { seq: frame.seq, ts: frame.ts, image: copyFrameImage(frame.image) };
    this.handle(events, frame.ts);
    const eventId = tracker.eventId;
    if (!wasActive || eventId === null || !this.soundsAlarm(movers)) return;
    if (this.alarmedEvent === eventId) {
      this.deps.alarm.extend();
      return;
    }
    // An object walked into an alarm zone after the event started: the start is recorded (or queued
    // ahead of this), so the alarm still follows a durable alert.
    this.alarmedEvent = eventId;
    this.events.run(async () => this.deps.alarm.trigger(`intrusion ${eventId}`)).catch((err: unknown) => this.deps.logger.error({ err }, 'alarm not switched on'));
  }

  /** Whether these objects sound the alarm: a moving one in an alarm zone (any, without zones). */
  private soundsAlarm(objects: readonly TrackedObject[]): boolean {
    const zones = this.deps.alarmZones?.() ?? [];
    return objects.some((o) => !o.stationary && inAlarmZone(o.zones, zones));
  }

  /** The frame's detections, or null when the frame was not analysed (no motion, no model, bad frame). */
  private async detect(frame: Frame): Promise<DetectionResult | null> {
    const { gate, detector, bus, logger } = this.deps;
    try {
      // The gate runs on every frame, watching or not: it is cheap, and new motion while only stationary
      // objects are watched must reach the detector at once.
      const { tracker } = this.deps;
      const decision = await gate.check(frame.image);
      const input = detector.current()?.inputSize ?? DEFAULT_INPUT_SIZE;
      // Only a motion frame may run on regions, and only regions need the frame's size (a JPEG header read).
      const size = decision.reason === 'motion' && this.deps.plan?.regions.enabled ? await frameSize(frame.image) : { width: 0, height: 0 };
      const plan = this.planner.plan(
        { decision, changed: () => gate.changedCells(), frame: size, inputSide: Math.max(input.width, input.height) },
        { eventOpen: tracker.active, deciding: tracker.deciding, allStationary: tracker.allStationary },
      );
      if (plan.kind === 'skip') {
        this.stats.skipped++;
        bus.emit('frame.skipped', { reason: plan.reason });
        return null;
      }
      if (!detector.current()) {
        if (!this.loggedNoModel) logger.warn('no intruder model is loaded: camera frames are not analysed');
        this.loggedNoModel = true;
        return null;
      }
      this.loggedNoModel = false;
      const detect = (model: IntruderDetector) => (plan.kind === 'regions' ? detectInRegions(model, frame.image, size, plan.regions) : model.detect(frame.image));
      const { result, info } = await this.turns.run(this.cameraName, () => detector.use(async (model) => ({ result: await detect(model), info: model.info })));
      this.stats.inferences++;
      this.stats.last_inference_ms = result.timings_ms.total;
      bus.emit('inference', { model: info.name, version: info.version, ms: result.timings_ms.total });
      bus.emit('detections', { objects: result.objects });
      return result;
    } catch (err) {
      // One corrupt frame (a torn JPEG from a USB camera) must not stop the pipeline.
      this.stats.bad_frames++;
      logger.warn({ err, seq: frame.seq }, 'frame could not be analysed; skipped');
      return null;
    }
  }

  /** `ts`: when the events happened (the frame's time, or now for the ticker's). */
  private handle(events: IntrusionEvent[], ts: number): void {
    for (const event of events) {
      // Taken now: by the time the record runs, a newer best frame may have replaced this one.
      const best = this.bestFrame;
      const picture = event.event !== 'end' && best?.seq === event.best.seq && best.ts === event.best.ts ? { image: best.image, objects: event.best.objects } : null;
      // Decided now, not when the record runs: the next frame must know whether the alarm is on.
      const alarm = event.event === 'start' && this.soundsAlarm(event.objects);
      if (alarm) this.alarmedEvent = event.event_id;
      this.events.run(() => this.record(event, ts, picture, alarm)).catch((err: unknown) => this.deps.logger.error({ err }, 'intrusion event not recorded'));
    }
  }

  /**
   * Commits the detection with its alert (fsynced), then switches the alarm on for a start, then makes
   * the snapshot (~150 ms on a Pi) and attaches it in a second transaction: an alarm never sounds for an
   * alert that a power cut could lose. The alarm goes on even if the store refused the row (a full card
   * must not silence the siren; the store reports the failure in its health).
   */
  private async record(event: IntrusionEvent, ts: number, picture: Picture | null, alarm: boolean): Promise<void> {
    const { messages, store, bus, logger, detector } = this.deps;
    const model = detector.current()?.info ?? { name: 'unknown', version: 'unknown' };
    const record: DetectionRecord = {
      id: messages.ids.next(),
      event_id: event.event_id,
      event: event.event,
      camera: this.cameraName,
      ts,
      objects: event.objects,
      model: { name: model.name, version: model.version },
      snapshot: null,
    };
    store.saveDetection(record, [messages.intruderAlert(record, this.topicName)]);
    if (alarm) this.deps.alarm.trigger(`intrusion ${event.event_id}`);
    this.stats.events++;
    logger.info({ camera: this.cameraName, event: event.event, event_id: event.event_id, objects: event.objects.map((o) => o.class) }, `intrusion ${event.event}`);
    const snapshot = picture ? await this.snapshot(picture, event.event_id, ts) : null;
    if (snapshot) store.attachSnapshot(record.id, snapshot.path, [messages.snapshot(snapshot.jpeg, this.topicName)]);
    bus.emit('intrusion', { camera: this.cameraName, event: event.event, event_id: event.event_id, objects: event.objects, snapshot: snapshot?.jpeg ?? null });
  }

  private async snapshot(picture: Picture, eventId: string, ts: number): Promise<{ jpeg: Buffer; path: string | null } | null> {
    const snapshots = this.deps.snapshots;
    if (!snapshots) return null;
    try {
      const jpeg = await fitJpeg(await drawDetections(picture.image, picture.objects), snapshots.maxBytes);
      let path: string | null = null;
      try {
        path = await snapshots.folder.save(jpeg, ts, eventId);
      } catch (err) {
        // A full card must not cost the alert or the published snapshot.
        this.deps.logger.error({ err }, 'snapshot not written to disk');
      }
      return { jpeg, path };
    } catch (err) {
      this.deps.logger.error({ err }, 'snapshot not made; the alert goes without it');
      return null;
    }
  }
}
