/**
 * The vision pipeline: camera -> motion gate -> intruder detector -> event tracker -> alarm and store.
 *
 * Frames are processed one at a time straight from the camera's iterator: while a frame is in the
 * detector, the camera keeps only its newest frame (the Camera seam's latest-frame-wins backpressure), so
 * a slow model drops frames instead of queueing them. While an intrusion is open every frame goes to the
 * detector (a person standing still makes no motion but must keep the event alive); otherwise only frames
 * the motion gate lets through do.
 */
import type { Camera, Frame } from '../../drivers/camera/index.js';
import type { DetectedObject, IntruderDetector } from '../../models/types.js';
import type { ComponentHealth, Service } from '../runtime/service.js';
import type { AgentStore, DetectionRecord, OutboxMessage } from '../store/types.js';
import type { EventBus } from '../runtime/event-bus.js';
import type { IntrusionEvent, IntrusionTracker } from './intrusion-tracker.js';
import type { Logger } from '../lib/log.js';
import type { MessageBuilder } from '../mqtt/messages.js';
import type { ModelSlot } from '../runtime/model-slot.js';
import type { MotionGate } from './motion-gate.js';
import { drawDetections, fitJpeg, type SnapshotFolder } from './snapshot.js';
import { Supervisor } from '../runtime/supervisor.js';
import { SerialQueue } from '../lib/serial-queue.js';

export interface VisionDeps {
  /** Cameras are single-use: a new one is made for every (re)start of the loop. */
  createCamera: () => Camera;
  gate: MotionGate;
  tracker: IntrusionTracker;
  detector: ModelSlot<IntruderDetector>;
  store: Pick<AgentStore, 'saveDetection'>;
  messages: MessageBuilder;
  alarm: { trigger(reason: string): void; extend(): void };
  /** null: snapshots off. */
  snapshots: { folder: SnapshotFolder; maxBytes: number } | null;
  bus: EventBus;
  logger: Logger;
  now?: () => number;
}

/** How often an open event is checked for its end when no frame comes. */
const TICK_MS = 500;

export class VisionPipeline implements Service {
  readonly name = 'vision';
  private readonly supervisor: Supervisor;
  private ticker: NodeJS.Timeout | null = null;
  /** Event handling runs one at a time (frames and the ticker both produce events). */
  private readonly events = new SerialQueue();
  private camera: Camera | null = null;
  private lastFrame: Frame | null = null;
  private stats = { frames: 0, inferences: 0, skipped: 0, bad_frames: 0, events: 0, last_inference_ms: null as number | null };
  private lastDropped = 0;
  private loggedNoModel = false;
  /** Set before the camera is stopped, so the end of its stream is not taken for a crash. */
  private stopping = false;

  constructor(private readonly deps: VisionDeps) {
    this.supervisor = new Supervisor('vision', (signal) => this.loop(signal), deps);
  }

  private get now(): number {
    return (this.deps.now ?? Date.now)();
  }

  start(): Promise<void> {
    this.stopping = false;
    this.supervisor.start();
    this.ticker = setInterval(() => this.handle(this.deps.tracker.tick(this.now)), TICK_MS);
    return Promise.resolve();
  }

  /** Stops the camera (ending the iteration), lets the frame in flight finish, and ends an open event. */
  async stop(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    this.stopping = true;
    await this.camera?.stop();
    await this.supervisor.stop();
    this.handle(this.deps.tracker.finish());
    await this.events.drain();
  }

  health(): ComponentHealth {
    const camera = this.camera?.stats() ?? null;
    const extra = { camera: this.camera?.name ?? null, camera_stats: camera, ...this.stats, restarts: this.supervisor.health().restarts };
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
        await this.process(camera, frame);
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
    bus.emit('frame.captured', { camera: camera.name });
    const dropped = camera.stats().dropped;
    if (dropped > this.lastDropped) bus.emit('frame.dropped', { camera: camera.name, count: dropped - this.lastDropped });
    this.lastDropped = dropped;

    const objects = await this.detect(frame);
    if (objects === null) return;
    const wasActive = this.deps.tracker.active;
    this.lastFrame = frame;
    this.handle(this.deps.tracker.observe(objects, frame.ts));
    if (wasActive && objects.length > 0) this.deps.alarm.extend();
  }

  /** The frame's intruders, or null when the frame was not analysed (no motion, no model, bad frame). */
  private async detect(frame: Frame): Promise<DetectedObject[] | null> {
    const { gate, detector, bus, logger } = this.deps;
    try {
      if (!this.deps.tracker.active) {
        const decision = await gate.check(frame.image);
        if (!decision.detect) {
          this.stats.skipped++;
          bus.emit('frame.skipped', { reason: 'no_motion' });
          return null;
        }
      }
      if (!detector.current()) {
        if (!this.loggedNoModel) logger.warn('no intruder model is loaded: camera frames are not analysed');
        this.loggedNoModel = true;
        return null;
      }
      this.loggedNoModel = false;
      const { result, info } = await detector.use(async (model) => ({ result: await model.detect(frame.image), info: model.info }));
      this.stats.inferences++;
      this.stats.last_inference_ms = result.timings_ms.total;
      bus.emit('inference', { model: info.name, version: info.version, ms: result.timings_ms.total });
      bus.emit('detections', { objects: result.objects });
      return result.objects;
    } catch (err) {
      // One corrupt frame (a torn JPEG from a USB camera) must not stop the pipeline.
      this.stats.bad_frames++;
      logger.warn({ err, seq: frame.seq }, 'frame could not be analysed; skipped');
      return null;
    }
  }

  private handle(events: IntrusionEvent[]): void {
    if (events.length === 0) return;
    const frame = this.lastFrame;
    for (const event of events) {
      // The alarm goes on at once; the snapshot and the store follow.
      if (event.event === 'start') this.deps.alarm.trigger(`intrusion ${event.event_id}`);
      this.events.run(() => this.record(event, frame)).catch((err: unknown) => this.deps.logger.error({ err }, 'intrusion event not recorded'));
    }
  }

  /** Stores the detection with its alert (and snapshot) in one transaction. */
  private async record(event: IntrusionEvent, frame: Frame | null): Promise<void> {
    const { messages, store, bus, logger, detector } = this.deps;
    const model = detector.current()?.info ?? { name: 'unknown', version: 'unknown' };
    const ts = event.event === 'end' || !frame ? this.now : frame.ts;
    const snapshot = event.event !== 'end' && frame ? await this.snapshot(frame, event, ts) : null;
    const record: DetectionRecord = {
      id: messages.ids.next(),
      event_id: event.event_id,
      event: event.event,
      ts,
      objects: event.objects,
      model: { name: model.name, version: model.version },
      snapshot: snapshot?.path ?? null,
    };
    const outgoing: OutboxMessage[] = [messages.intruderAlert(record)];
    if (snapshot) outgoing.push(messages.snapshot(snapshot.jpeg));
    store.saveDetection(record, outgoing);
    this.stats.events++;
    logger.info({ event: event.event, event_id: event.event_id, objects: event.objects.map((o) => o.class) }, `intrusion ${event.event}`);
    bus.emit('intrusion', { event: event.event, event_id: event.event_id, objects: event.objects, snapshot: snapshot?.jpeg ?? null });
  }

  private async snapshot(frame: Frame, event: IntrusionEvent, ts: number): Promise<{ jpeg: Buffer; path: string | null } | null> {
    const snapshots = this.deps.snapshots;
    if (!snapshots) return null;
    try {
      const jpeg = await fitJpeg(await drawDetections(frame.image, event.objects), snapshots.maxBytes);
      let path: string | null = null;
      try {
        path = await snapshots.folder.save(jpeg, ts, event.event_id);
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
