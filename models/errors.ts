/**
 * Errors the model runners throw, so callers can map them without parsing messages:
 * the CLI to exit statuses (66 / 65), HTTP to 4xx, OTA to a rejected update.
 */

/** A model file that cannot be used: missing, not ONNX, wrong input/output shape or metadata. */
export class ModelLoadError extends Error {
  constructor(
    readonly modelPath: string,
    reason: string,
  ) {
    super(`${modelPath}: ${reason}`);
    this.name = 'ModelLoadError';
  }
}

/** Input a model refuses (a broken or oversized image, a window of the wrong length, NaN values...). */
export class InvalidInputError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidInputError';
  }
}
