import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkedReading, invalidReading, type PlausibleRange } from './reading.js';
import type { Clock } from '../../agent/lib/timing.js';
import type { Reading, TemperatureSensor } from './types.js';

/** The SoC temperature from the kernel's thermal framework: a health signal, not a room temperature. */

export const DEFAULT_THERMAL_ROOT = '/sys/class/thermal';
const RANGE: PlausibleRange = { min: -40, max: 125 };

export interface ThermalZone {
  zone: string;
  type: string;
}

/** The zone of type `cpu-thermal` (Raspberry Pi), else the lowest-numbered zone; null when there is none. */
export async function findCpuThermalZone(thermalRoot: string): Promise<ThermalZone | null> {
  let names: string[];
  try {
    names = (await readdir(thermalRoot)).filter((name) => /^thermal_zone\d+$/.test(name));
  } catch {
    return null;
  }
  names.sort((a, b) => Number(a.slice(12)) - Number(b.slice(12)));
  const zones = await Promise.all(
    names.map(async (zone) => ({ zone, type: (await readFile(join(thermalRoot, zone, 'type'), 'utf8').catch(() => '')).trim() })),
  );
  return zones.find((z) => z.type === 'cpu-thermal') ?? zones[0] ?? null;
}

export class CpuThermalSensor implements TemperatureSensor {
  readonly name = 'cpu';
  private zone: ThermalZone | null = null;
  private closed = false;

  constructor(private readonly options: { thermalRoot: string; clock: Clock }) {}

  async read(): Promise<Reading> {
    const { clock, thermalRoot } = this.options;
    if (this.closed) return invalidReading(this.name, clock.now(), 'sensor closed');
    this.zone ??= await findCpuThermalZone(thermalRoot);
    if (!this.zone) return invalidReading(this.name, clock.now(), `no thermal zone under ${thermalRoot}`);
    const path = join(thermalRoot, this.zone.zone, 'temp');
    try {
      const text = (await readFile(path, 'utf8')).trim();
      if (!/^-?\d+$/.test(text)) return invalidReading(this.name, clock.now(), `${path} holds ${JSON.stringify(text)}, not millidegrees`);
      return checkedReading(this.name, clock.now(), Number(text) / 1000, RANGE);
    } catch (err) {
      return invalidReading(this.name, clock.now(), `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
