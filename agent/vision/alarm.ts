/**
 * The alarm policy over a GPIO output: an intrusion switches it on for `hold_s`, later detections of the
 * same intrusion push the switch-off back, `cmd/alarm` silences or tests it, every change of state is
 * published retained on `<base>/alarm` (through the outbox, so a subscriber that connects later still
 * sees it), and it is off whenever the agent is not running.
 */
import type { AlarmOutput } from '../../drivers/gpio/index.js';
import type { ComponentHealth, Service } from '../runtime/service.js';
import type { AgentStore } from '../store/types.js';
import type { EventBus } from '../runtime/event-bus.js';
import type { Logger } from '../lib/log.js';
import type { MessageBuilder } from '../mqtt/messages.js';

export interface AlarmPolicyConfig {
  hold_s: number;
}

export interface AlarmDeps {
  output: AlarmOutput;
  store: Pick<AgentStore, 'enqueue'>;
  /** Builds the retained `<base>/alarm` state message. */
  messages: Pick<MessageBuilder, 'alarmState'>;
  bus: EventBus;
  logger: Logger;
}

export type AlarmCommand = { action: 'silence'; duration_s: number } | { action: 'test'; duration_s: number } | { action: 'off' };

/** Default length of a `test` (a short chirp, not a real alarm). */
const TEST_DURATION_S = 3;

/**
 * Reads a `cmd/alarm` request, `{"action": "silence"|"test"|"off", "duration_s"?: n}` (the router turns a
 * bare word into `{"action": word}`). Silence lasts `duration_s` (default `hold_s`): detections meanwhile
 * do not switch it back on.
 */
export function parseAlarmCommand(request: Record<string, unknown>, holdS: number): AlarmCommand {
  const duration = request['duration_s'];
  if (duration !== undefined && (typeof duration !== 'number' || !Number.isFinite(duration) || duration <= 0 || duration > 86_400)) {
    throw new Error('duration_s must be a number of seconds between 0 and 86400');
  }
  switch (request['action']) {
    case 'silence':
      return { action: 'silence', duration_s: duration ?? holdS };
    case 'test':
      return { action: 'test', duration_s: duration ?? TEST_DURATION_S };
    case 'off':
      return { action: 'off' };
    default:
      throw new Error(`unknown action ${JSON.stringify(request['action'])}: expected "silence", "test" or "off"`);
  }
}

export class AlarmPolicy implements Service {
  readonly name = 'alarm';
  private on = false;
  private offTimer: NodeJS.Timeout | null = null;
  private silencedUntil = 0;
  private lastError: string | null = null;
  /** Output writes run one after another, so the line ends in the state decided last. */
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: AlarmPolicyConfig,
    private readonly deps: AlarmDeps,
  ) {}

  get isOn(): boolean {
    return this.on;
  }

  async start(): Promise<void> {
    await this.apply(false, 'start');
  }

  /** Switches off (the agent stops; an alarm must not stay on with nobody watching it). */
  async stop(): Promise<void> {
    this.clearTimer();
    await this.apply(false, 'shutdown');
  }

  /** An intrusion started: on for `hold_s`, unless silenced. */
  trigger(reason: string): void {
    if (Date.now() < this.silencedUntil) {
      this.deps.logger.info({ reason }, 'alarm silenced: intrusion not signalled');
      return;
    }
    this.holdFor(this.config.hold_s, reason);
  }

  /** Intruders still seen: keeps an alarm that is on for another `hold_s` (does not switch it on). */
  extend(): void {
    if (this.on && this.offTimer) this.holdFor(this.config.hold_s, 'extend');
  }

  /** Runs a command; returns what the response reports. */
  async command(cmd: AlarmCommand): Promise<{ alarm: 'on' | 'off'; silenced_until: string | null }> {
    if (cmd.action === 'test') {
      this.holdFor(cmd.duration_s, 'test');
    } else {
      if (cmd.action === 'silence') this.silencedUntil = Date.now() + cmd.duration_s * 1000;
      this.clearTimer();
      await this.apply(false, cmd.action);
    }
    await this.writes;
    return { alarm: this.on ? 'on' : 'off', silenced_until: this.silencedUntil > Date.now() ? new Date(this.silencedUntil).toISOString() : null };
  }

  health(): ComponentHealth {
    const base = { output: this.deps.output.name, on: this.on };
    if (this.lastError) return { state: 'degraded', detail: `alarm output failed: ${this.lastError}`, ...base };
    return { state: 'ok', ...base };
  }

  private holdFor(seconds: number, reason: string): void {
    this.clearTimer();
    this.offTimer = setTimeout(() => {
      this.offTimer = null;
      void this.apply(false, 'hold expired');
    }, seconds * 1000);
    if (!this.on) void this.apply(true, reason);
  }

  private clearTimer(): void {
    if (this.offTimer) clearTimeout(this.offTimer);
    this.offTimer = null;
  }

  /** Drives the output and publishes the state; a failing GPIO is logged and shown in health, never thrown. */
  private apply(on: boolean, reason: string): Promise<void> {
    const changed = this.on !== on;
    this.on = on;
    this.writes = this.writes.then(async () => {
      try {
        await this.deps.output.set(on);
        this.lastError = null;
      } catch (err) {
        this.lastError = (err as Error).message;
        this.deps.logger.error({ err, on }, 'alarm output failed');
      }
    });
    if (changed || reason === 'start' || reason === 'shutdown') {
      this.deps.store.enqueue([this.deps.messages.alarmState(on)]);
      this.deps.bus.emit('alarm', { on, reason });
      this.deps.logger.info({ on, reason }, on ? 'alarm on' : 'alarm off');
    }
    return this.writes;
  }
}
