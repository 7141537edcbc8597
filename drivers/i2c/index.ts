/** The I2C bus seam and how to open the real one. */

export { openI2CBus } from './open.js';
export { hex } from './types.js';
export type { OpenI2CBus } from './types.js';