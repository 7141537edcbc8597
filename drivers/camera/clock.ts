/** Time as the camera drivers see it; tests inject their own. */
export interface CameraClock {
  /** Wall-clock time in ms since the epoch (UTC): stamps frames. */
  now(): number;
  /** Monotonic ms: frame ages and rates, immune to the clock step a Pi (no RTC) takes when NTP syncs. */
  monotonic(): number;
}

export const systemClock: CameraClock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};
