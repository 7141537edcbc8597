import type { SensorDriver, TemperatureSensor } from '../../../drivers/sensors/types.js';
import { silentLogger } from '../../../agent/lib/log.js';
import type { RetryPolicy } from '../../../drivers/sensors/i2c-sensor.js';
import { createTemperatureSensor } from '../../../drivers/sensors/index.js';
import { FakeI2CHardware, VirtualClock, type FakeChip } from '../../fakes/i2c/fake-bus.js';
import { sensorConfig } from './contract.js';

export interface Rig<C extends FakeChip> {
  clock: VirtualClock;
  hardware: FakeI2CHardware;
  chip: C;
  sensor: TemperatureSensor;
  /** Every wait the driver asked for, in order (conversion waits and retry backoff). */
  sleeps: number[];
}

/** A sensor built by the factory for `driver`, over a fake bus 1 holding `chip` at `address`, on virtual time. */
export async function rig<C extends FakeChip>(
  driver: SensorDriver,
  address: number,
  makeChip: (clock: VirtualClock) => C,
  options: { retry?: RetryPolicy; address?: number | null } = {},
): Promise<Rig<C>> {
  const clock = new VirtualClock();
  const hardware = new FakeI2CHardware(1);
  const chip = makeChip(clock);
  hardware.attach(address, chip);
  const sleeps: number[] = [];
  const sensor = await createTemperatureSensor(sensorConfig({ driver, address: options.address ?? null }), {
    logger: silentLogger(),
    openBus: hardware.open,
    clock: clock.clock,
    sleep: (ms) => {
      sleeps.push(ms);
      return clock.sleep(ms);
    },
    ...(options.retry ? { retry: options.retry } : {}),
  });
  return { clock, hardware, chip, sensor, sleeps };
}

/** The reading's error, or a failure message naming the value when it was valid. */
export function errorOf(reading: Awaited<ReturnType<TemperatureSensor['read']>>): string {
  return reading.valid ? `valid reading ${reading.celsius}` : reading.error;
}
