/**
 * The one table from an error to the exit status of `edge-agent` (sysexits.h: 0 ok, 1 partial failure,
 * 2 usage, 64-78). Commands throw the errors of the layer that refused (the configuration, a driver, a
 * model, an update) and this table decides the status; anything it does not know is an internal error (70).
 */
import { AlarmConfigError } from '../../drivers/gpio/index.js';
import { CameraConfigError, CameraInputError, CameraUnavailableError } from '../../drivers/camera/index.js';
import { SensorConfigError, SensorNotFoundError } from '../../drivers/sensors/index.js';
import { InvalidInputError, ModelLoadError } from '../../models/errors.js';
import { ConfigError } from '../config/errors.js';
import { CliError, ExitCode } from '../lib/exit-codes.js';
import { OtaError, type OtaErrorCode } from '../ota/errors.js';

/** Why an update was refused, as a status: the caller's mistake, bad data, an unreachable server, the disk. */
const OTA_EXIT_STATUS: Record<OtaErrorCode, number> = {
  invalid_request: ExitCode.USAGE,
  unsupported_source: ExitCode.USAGE,
  not_found: ExitCode.NO_INPUT,
  http_error: ExitCode.UNAVAILABLE,
  tls_error: ExitCode.UNAVAILABLE,
  network_error: ExitCode.UNAVAILABLE,
  timeout: ExitCode.UNAVAILABLE,
  too_large: ExitCode.DATA_ERROR,
  truncated: ExitCode.UNAVAILABLE,
  checksum_mismatch: ExitCode.DATA_ERROR,
  signature_missing: ExitCode.DATA_ERROR,
  signature_invalid: ExitCode.DATA_ERROR,
  invalid_model: ExitCode.DATA_ERROR,
  install_failed: ExitCode.IO_ERROR,
  activation_failed: ExitCode.IO_ERROR,
  interrupted: ExitCode.FAILURE,
  cancelled: ExitCode.FAILURE,
};

interface Rule {
  matches(err: unknown): boolean;
  status(err: unknown): number;
}

function rule<E extends Error>(errorClass: new (...args: never[]) => E, status: number | ((err: E) => number)): Rule {
  return {
    matches: (err) => err instanceof errorClass,
    status: (err) => (typeof status === 'number' ? status : status(err as E)),
  };
}

/** First match wins. */
const EXIT_STATUS: readonly Rule[] = [
  // A command's own verdict on the command line or on what it did (UsageError: 2).
  rule(CliError, (err) => err.exitCode),
  // Every configuration problem, listed; systemd does not restart a unit that exits 78 in a loop.
  rule(ConfigError, ExitCode.CONFIG),
  rule(OtaError, (err) => OTA_EXIT_STATUS[err.code]),
  rule(ModelLoadError, ExitCode.NO_INPUT),
  rule(InvalidInputError, ExitCode.DATA_ERROR),
  // Camera and sensor settings reach the drivers from the command line (`capture`, `sensor read`): usage.
  rule(CameraConfigError, ExitCode.USAGE),
  rule(CameraInputError, ExitCode.NO_INPUT),
  rule(CameraUnavailableError, ExitCode.UNAVAILABLE),
  rule(SensorConfigError, (err) => (err.code === 'ENOENT' ? ExitCode.NO_INPUT : ExitCode.USAGE)),
  rule(SensorNotFoundError, ExitCode.UNAVAILABLE),
  // Only the configuration file sets the alarm pin.
  rule(AlarmConfigError, ExitCode.CONFIG),
];

export function exitStatusOf(err: unknown): number {
  return EXIT_STATUS.find((r) => r.matches(err))?.status(err) ?? ExitCode.SOFTWARE;
}
