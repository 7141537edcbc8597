import { hex, type I2CBus, type OpenI2CBus } from '../i2c/types.js';
import { PROBE_ORDER } from './chips/index.js';
import { probeTemperatureChips, type ProbeHit } from './probe.js';
import type { Sleep } from '../../agent/lib/timing.js';

/** What one I2C bus holds: the known chips, and the other addresses that answer a read. */
export interface I2CScan {
  bus: number;
  hits: ProbeHit[];
  /** Addresses answering a one-byte read that are not a known chip (only with `listUnknown`). */
  unknown: number[];
  /** Why the bus could not be used (cannot open /dev/i2c-1: ENOENT ...), or null. */
  error: string | null;
}

export interface ScanOptions {
  openBus: OpenI2CBus;
  sleep: Sleep;
  /** Probe only this address. */
  only?: number | null;
  /** Also list every address that answers (a full-bus read scan, like `i2cdetect -r`). */
  listUnknown?: boolean;
}

export async function scanI2CBus(busNumber: number, options: ScanOptions): Promise<I2CScan> {
  let bus: I2CBus;
  try {
    bus = await options.openBus(busNumber);
  } catch (err) {
    return { bus: busNumber, hits: [], unknown: [], error: (err as Error).message };
  }
  try {
    const hits = await probeTemperatureChips(bus, options.sleep, options.only ?? null);
    const known = new Set(hits.map((hit) => hit.address));
    const unknown = options.listUnknown ? (await bus.scan(0x03, 0x77)).filter((address) => !known.has(address)) : [];
    return { bus: busNumber, hits, unknown, error: null };
  } catch (err) {
    return { bus: busNumber, hits: [], unknown: [], error: (err as Error).message };
  } finally {
    await bus.close().catch(() => undefined);
  }
}

/** `0x18-0x1f, 0x38, 0x44-0x4b, 0x76-0x77`: the addresses auto-detection probes, for messages. */
export function probedAddresses(only: number | null = null): string {
  if (only !== null) return hex(only);
  const addresses = [...new Set(PROBE_ORDER.flatMap((driver) => driver.addresses))].sort((a, b) => a - b);
  const ranges: Array<[number, number]> = [];
  for (const address of addresses) {
    const last = ranges.at(-1);
    if (last && address === last[1] + 1) last[1] = address;
    else ranges.push([address, address]);
  }
  return ranges.map(([from, to]) => (from === to ? hex(from) : `${hex(from)}-${hex(to)}`)).join(', ');
}
