/** Errors of the sensor layer. Only the factory throws; `read()` turns everything into invalid readings. */

/** The configuration cannot work (driver `none`, malformed device id, unreadable replay file...). */
export class SensorConfigError extends Error {
  constructor(
    message: string,
    /** The errno code behind it, when a file was the problem (`ENOENT` for a missing replay file). */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'SensorConfigError';
  }
}

/** `sensor: auto` looked everywhere it knows and found nothing. */
export class SensorNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SensorNotFoundError';
  }
}

/**
 * The chip answered but what it said is unusable (CRC mismatch, wrong chip id, reset value): an invalid
 * reading with this message. Not retried, since repeating the same transfer gives the same answer.
 */
export class SensorDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SensorDataError';
  }
}
