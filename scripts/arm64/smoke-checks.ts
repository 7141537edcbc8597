/**
 * What the emulated `edge-agent run` (scripts/arm64/smoke-run.ts) must show, as data: the MQTT messages,
 * the /health answer, the exit and the log are collected while the agent runs, and these expectations
 * say which are missing.
 */
import type { IntruderAlertPayload, TemperatureAlertPayload, TemperatureForecastPayload, TemperatureTelemetryPayload } from '../../agent/mqtt/contract/topics.js';

/** Valid readings wanted before the stop: one forecaster window's worth. */
export const MIN_READINGS = 60;

export interface SmokeMessage {
  /** The topic below the device's base topic, e.g. `alerts/intruder`. */
  topic: string;
  payload: Buffer;
}

export interface SmokeObservations {
  messages: SmokeMessage[];
  /** Status and JSON body of GET /health, null until it answered. */
  health: { status: number; body: unknown } | null;
  /** null while the agent runs; `afterSigterm` false when it ended by itself. */
  exit: { code: number | null; signal: string | null; afterSigterm: boolean } | null;
  /** `msg` of every log line at level error or fatal. */
  errorLogs: string[];
  /** The first temperature of the replayed file: the first reading must carry exactly it. */
  firstFileCelsius: number;
}

export interface Expectation {
  name: string;
  /** `running`: wanted before the agent is stopped; `stopped`: checked after it exited. */
  phase: 'running' | 'stopped';
  met: (o: SmokeObservations) => boolean;
}

function texts(o: SmokeObservations, topic: string): string[] {
  return o.messages.filter((m) => m.topic === topic).map((m) => m.payload.toString());
}

/** JSON payloads of a topic; a payload that is not JSON is left out (and so fails the expectation). */
function payloads<T>(o: SmokeObservations, topic: string): T[] {
  return texts(o, topic).flatMap((text) => {
    try {
      return [JSON.parse(text) as T];
    } catch {
      return [];
    }
  });
}

const intruderAlerts = (o: SmokeObservations) => payloads<IntruderAlertPayload>(o, 'alerts/intruder');
const personStarts = (o: SmokeObservations) =>
  intruderAlerts(o).filter((a) => a.event === 'start' && a.objects.some((object) => object.class === 'person'));
const readings = (o: SmokeObservations) => payloads<TemperatureTelemetryPayload>(o, 'telemetry/temperature');
const validReadings = (o: SmokeObservations) => readings(o).filter((r) => r.valid && typeof r.celsius === 'number');
const forecasts = (o: SmokeObservations) => payloads<TemperatureForecastPayload>(o, 'forecast/temperature');
const temperatureAlerts = (o: SmokeObservations) => payloads<TemperatureAlertPayload>(o, 'alerts/temperature');
const isJpeg = (payload: Buffer) => payload.length > 3 && payload[0] === 0xff && payload[1] === 0xd8 && payload[2] === 0xff;

export const EXPECTATIONS: readonly Expectation[] = [
  { name: 'status `online`', phase: 'running', met: (o) => texts(o, 'status').includes('online') },
  {
    name: 'an intruder alert `start` with a person',
    phase: 'running',
    met: (o) => personStarts(o).length > 0,
  },
  {
    name: 'an intruder alert `end` of that event',
    phase: 'running',
    met: (o) => {
      const started = new Set(personStarts(o).map((start) => start.event_id));
      return intruderAlerts(o).some((alert) => alert.event === 'end' && started.has(alert.event_id));
    },
  },
  { name: 'a JPEG snapshot', phase: 'running', met: (o) => o.messages.some((m) => m.topic === 'snapshot' && isJpeg(m.payload)) },
  { name: 'alarm `on`', phase: 'running', met: (o) => texts(o, 'alarm').includes('on') },
  {
    name: `telemetry: at least ${MIN_READINGS} valid readings, the first one the file's first temperature`,
    phase: 'running',
    met: (o) => {
      const valid = validReadings(o);
      return valid.length >= MIN_READINGS && readings(o)[0]?.celsius === o.firstFileCelsius;
    },
  },
  {
    name: 'a temperature forecast from a 60-reading window',
    phase: 'running',
    met: (o) => forecasts(o).some((f) => Number.isFinite(f.predicted_celsius) && f.based_on.n === 60 && f.horizon_s > 0),
  },
  { name: 'a temperature alert `high`', phase: 'running', met: (o) => temperatureAlerts(o).some((a) => a.kind === 'high') },
  { name: 'GET /health answers 200', phase: 'running', met: (o) => o.health?.status === 200 },
  { name: 'exit status 0 after SIGTERM', phase: 'stopped', met: (o) => o.exit?.afterSigterm === true && o.exit.code === 0 },
  { name: 'alarm `off` last', phase: 'stopped', met: (o) => texts(o, 'alarm').at(-1) === 'off' },
  { name: 'status `offline` last', phase: 'stopped', met: (o) => texts(o, 'status').at(-1) === 'offline' },
  { name: 'no error in the log', phase: 'stopped', met: (o) => o.errorLogs.length === 0 },
];

/** The expectations not met (for `running`: those that keep the agent running a while longer). */
export function unmet(o: SmokeObservations, phases: readonly Expectation['phase'][] = ['running', 'stopped']): Expectation[] {
  return EXPECTATIONS.filter((e) => phases.includes(e.phase) && !e.met(o));
}

/** Counts for the report line. */
export function tally(o: SmokeObservations): string {
  return [
    `${intruderAlerts(o).length} intruder alerts`,
    `${validReadings(o).length} readings`,
    `${forecasts(o).length} forecasts`,
    `${temperatureAlerts(o).length} temperature alerts`,
  ].join(', ');
}
