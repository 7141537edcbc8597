/**
 * Why a camera could not start, as three kinds the callers treat differently: the CLI turns them into
 * exit statuses (usage, no input, unavailable) and the daemon into a clear `/health` detail.
 */

/** A camera setting is out of range or of the wrong kind (never reaches a process or a shell). */
export class CameraConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CameraConfigError';
  }
}

/** What the camera should read does not exist or holds nothing usable (a replay folder, a device path). */
export class CameraInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CameraInputError';
  }
}

/** The capture program (rpicam-vid, ffmpeg, ...) is not installed or cannot be run. */
export class CameraUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CameraUnavailableError';
  }
}
