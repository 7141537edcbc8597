import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Fake sysfs trees for the file-based sensors: 1-Wire (w1_therm) devices and thermal zones. */

/** Dallas/Maxim 1-Wire CRC-8: polynomial x^8 + x^5 + x^4 + 1, reflected (0x8C), initial value 0. */
export function dallasCrc8(bytes: readonly number[]): number {
  let crc = 0;
  for (const byte of bytes) {
    let b = byte;
    for (let bit = 0; bit < 8; bit++) {
      const mix = (crc ^ b) & 0x01;
      crc >>= 1;
      if (mix) crc ^= 0x8c;
      b >>= 1;
    }
  }
  return crc;
}

/** A DS18B20 scratchpad: 1/16 °C two's complement, TH, TL, 12-bit config, reserved bytes, CRC. */
export function ds18b20Scratchpad(raw: number): number[] {
  const bytes = [raw & 0xff, (raw >> 8) & 0xff, 0x4b, 0x46, 0x7f, 0xff, 0x0c, 0x10];
  return [...bytes, dallasCrc8(bytes)];
}

/** The w1_slave text the kernel's w1_therm driver produces for a scratchpad. */
export function w1SlaveText(scratchpad: readonly number[], crcOk = dallasCrc8(scratchpad.slice(0, 8)) === scratchpad[8]): string {
  const hex = scratchpad.map((b) => b.toString(16).padStart(2, '0')).join(' ');
  const raw = (((scratchpad[1] ?? 0) << 8) | (scratchpad[0] ?? 0)) << 16 >> 16;
  // w1_therm: t = raw * 1000 / 16 in C integer arithmetic (truncated toward zero).
  return `${hex} : crc=${(scratchpad[8] ?? 0).toString(16).padStart(2, '0')} ${crcOk ? 'YES' : 'NO'}\n${hex} t=${Math.trunc((raw * 1000) / 16)}\n`;
}

export class FakeW1Tree {
  private constructor(readonly root: string) {}

  static async create(): Promise<FakeW1Tree> {
    return new FakeW1Tree(await mkdtemp(join(tmpdir(), 'edge-w1-')));
  }

  /** The device as the kernel shows it after a conversion at `celsius`. */
  async setTemperature(device: string, celsius: number): Promise<void> {
    await this.setText(device, w1SlaveText(ds18b20Scratchpad(Math.round(celsius * 16) & 0xffff)));
  }

  async setText(device: string, text: string): Promise<void> {
    await mkdir(join(this.root, device), { recursive: true });
    await writeFile(join(this.root, device, 'w1_slave'), text);
  }

  /** The bus master's own entry, present on every Pi with 1-Wire on. */
  async addBusMaster(): Promise<void> {
    await mkdir(join(this.root, 'w1_bus_master1'), { recursive: true });
  }

  async remove(device: string): Promise<void> {
    await rm(join(this.root, device), { recursive: true, force: true });
  }

  async dispose(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

/** /sys/class/thermal with the given zones, each `{ type, millidegrees }`. */
export async function createThermalTree(zones: ReadonlyArray<{ type: string; temp: string }>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'edge-thermal-'));
  for (const [i, zone] of zones.entries()) {
    await mkdir(join(root, `thermal_zone${i}`));
    await writeFile(join(root, `thermal_zone${i}`, 'type'), zone.type + '\n');
    await writeFile(join(root, `thermal_zone${i}`, 'temp'), zone.temp + '\n');
  }
  return root;
}
