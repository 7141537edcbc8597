import type { I2CBus } from '../i2c/types.js';
import { PROBE_ORDER, type ChipDriver, type I2CChipName } from './chips/index.js';
import { I2CDevice } from './chips/i2c-device.js';
import type { Sleep } from '../../agent/lib/timing.js';

export interface ProbeHit {
  chip: I2CChipName;
  address: number;
  driver: ChipDriver;
}

/**
 * Asks every known temperature chip address on the bus who is there, by id registers where the chip
 * has them. Hits come in PROBE_ORDER, so the first is the one `sensor: auto` picks. A silent address
 * (NACK) or an error just means "not this chip". `only` restricts the probe to one address.
 */
export async function probeTemperatureChips(bus: I2CBus, sleep: Sleep, only: number | null = null): Promise<ProbeHit[]> {
  const hits: ProbeHit[] = [];
  const claimed = new Set<number>();
  for (const driver of PROBE_ORDER) {
    for (const address of driver.addresses) {
      if (claimed.has(address) || (only !== null && address !== only)) continue;
      const chip = await driver.identify(new I2CDevice(bus, address, sleep)).catch(() => null);
      if (chip === null) continue;
      hits.push({ chip, address, driver });
      claimed.add(address);
    }
  }
  return hits;
}
