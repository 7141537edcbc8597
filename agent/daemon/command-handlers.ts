/**
 * The remote commands the pipelines answer (`<base>/cmd/alarm`, `<base>/cmd/forecast-now`), as handlers
 * for the router (agent/mqtt/remote-commands.ts). The daemon's service table registers them with the
 * service they drive, so they go when that service stops.
 */
import type { AlarmConfig } from '../config/types.js';
import { CommandError, type CommandHandler } from '../mqtt/remote-commands.js';
import type { TelemetryPipeline } from '../telemetry/pipeline.js';
import { parseAlarmCommand, type AlarmPolicy } from '../vision/alarm.js';

/**
 * `{"action": "silence"|"test"|"off", "duration_s"?}` -> `{ alarm: "on"|"off", silenced_until }`. `hold_s`
 * (the default duration) is read at each command: `cmd/config/set` changes it live.
 */
export function alarmCommand(alarm: AlarmPolicy, config: Pick<AlarmConfig, 'hold_s'>): CommandHandler {
  return async ({ body }) => {
    let command;
    try {
      command = parseAlarmCommand(body, config.hold_s);
    } catch (err) {
      throw new CommandError('invalid_request', (err as Error).message);
    }
    return { ...(await alarm.command(command)) };
  };
}

/** `{}` -> `{ forecast_id, predicted_celsius, horizon_s }`: a forecast now, published as usual. */
export function forecastNowCommand(telemetry: Pick<TelemetryPipeline, 'forecastNow'>): CommandHandler {
  return async () => {
    const outcome = await telemetry.forecastNow();
    if (!outcome.ok) throw new CommandError('no_forecast', `no forecast: ${outcome.reason}`);
    const { id, predicted_celsius, horizon_s } = outcome.record;
    return { forecast_id: id, predicted_celsius, horizon_s };
  };
}
