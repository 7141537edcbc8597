/** The part of an onoff `Gpio` the alarm uses, so tests can hand in a fake controller. */
export interface GpioLine {
  /** Logical value: with active_low, 1 drives the pin low. */
  write(value: 0 | 1): Promise<void>;
  /** Releases the line (writes the number to /sys/class/gpio/unexport). */
  unexport(): void;
}

/**
 * Exports sysfs GPIO `sysfsNumber` as an output. `direction` is 'high' or 'low': the *physical* level
 * the line starts at (the kernel applies it raw, before active_low), chosen so the alarm starts off.
 */
export type GpioFactory = (sysfsNumber: number, direction: 'high' | 'low', options: { activeLow: boolean }) => GpioLine | Promise<GpioLine>;

/** onoff's Gpio, imported on first use: it needs its native epoll addon, which only matters on a Pi. */
export async function loadOnoffFactory(): Promise<GpioFactory> {
  const { Gpio } = await import('onoff');
  return (sysfsNumber, direction, { activeLow }) => new Gpio(sysfsNumber, direction, 'none', { activeLow });
}
