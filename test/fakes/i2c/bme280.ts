import type { Bmx280Trimming } from '../../../drivers/sensors/chips/bmx280.js';
import type { VirtualClock } from './fake-bus.js';
import { clampUnsigned } from './encode.js';
import { ByteRegisterChip } from './register-chip.js';

/** The calculation example of the BMP280 datasheet (section 3.12): adc_T 519888 reads 25.08 °C. */
export const DATASHEET_TRIMMING: Bmx280Trimming = { t1: 27504, t2: 26435, t3: -1000 };

const SKIPPED = 0x80000;

/**
 * The raw 20-bit temperature a BME280 with `trimming` reports at `celsius`: the datasheet's
 * floating-point compensation T = (8·x·T2 + x²·T3) / 5120 with x = adc/131072 - T1/8192, solved for adc
 * (the quadratic's root that tends to the linear solution as T3 goes to 0).
 */
export function bme280AdcFor(celsius: number, { t1, t2, t3 }: Bmx280Trimming): number {
  const tFine = celsius * 5120;
  const x = (2 * tFine) / (8 * t2 + Math.sqrt(64 * t2 * t2 + 4 * t3 * tFine));
  return clampUnsigned((x + t1 / 8192) * 131072, 20);
}

/**
 * BME280 / BMP280 emulation: chip id, trimming registers, sleep and forced mode, the "measuring" status
 * bit for the datasheet's maximum measurement time, shadowed data registers that change only when a
 * forced measurement completes (0x80000 until the first), and ctrl_hum latched by the ctrl_meas write.
 */
export class FakeBme280 extends ByteRegisterChip {
  celsius = 21.5;
  /** Completed forced measurements. */
  measurements = 0;
  /** Extra measurement time, for a chip at the slow end of its tolerance. */
  slowdownMs = 0;
  private ctrlMeas = 0;
  private ctrlHum: number;
  private latchedHumidity = 0;
  private config = 0;
  private measuringUntil = -Infinity;
  private pendingAdc: number | null = null;
  private adcT = SKIPPED;

  constructor(
    private readonly clock: VirtualClock,
    readonly variant: 'bme280' | 'bmp280' = 'bme280',
    readonly trimming: Bmx280Trimming = DATASHEET_TRIMMING,
    /** ctrl_hum as another program may have left it (humidity oversampling lengthens measurements). */
    ctrlHum = 0,
  ) {
    super();
    this.ctrlHum = ctrlHum;
  }

  get filterEnabled(): boolean {
    return (this.config & 0b11100) !== 0;
  }

  protected readRegister(register: number): number {
    this.completeMeasurement();
    const trim = Buffer.alloc(6);
    trim.writeUInt16LE(this.trimming.t1, 0);
    trim.writeInt16LE(this.trimming.t2, 2);
    trim.writeInt16LE(this.trimming.t3, 4);
    if (register >= 0x88 && register < 0x8e) return trim[register - 0x88] ?? 0;
    switch (register) {
      case 0xd0:
        return this.variant === 'bme280' ? 0x60 : 0x58;
      case 0xf2:
        return this.variant === 'bme280' ? this.ctrlHum : 0;
      case 0xf3:
        return this.clock.now < this.measuringUntil ? 0x08 : 0x00;
      case 0xf4:
        return this.ctrlMeas;
      case 0xf5:
        return this.config;
      case 0xfa:
        return this.adcT >> 12;
      case 0xfb:
        return (this.adcT >> 4) & 0xff;
      case 0xfc:
        return (this.adcT & 0x0f) << 4;
      default:
        return 0;
    }
  }

  protected writeRegister(register: number, value: number): void {
    this.completeMeasurement();
    if (register === 0xf2 && this.variant === 'bme280') this.ctrlHum = value & 0x07;
    if (register === 0xf5) this.config = value;
    if (register !== 0xf4) return;
    this.ctrlMeas = value;
    this.latchedHumidity = this.variant === 'bme280' ? this.ctrlHum : 0;
    const mode = value & 0x03;
    if (mode === 0x01 || mode === 0x02) this.startForcedMeasurement(value >> 5, (value >> 2) & 0x07);
  }

  /** Datasheet appendix B: t_measure,max = 1.25 + 2.3·T + (2.3·P + 0.575) + (2.3·H + 0.575) ms. */
  private startForcedMeasurement(osrsT: number, osrsP: number): void {
    const samples = (osrs: number) => (osrs === 0 ? 0 : 2 ** (Math.min(osrs, 5) - 1));
    const timeMs =
      1.25 +
      2.3 * samples(osrsT) +
      (osrsP ? 2.3 * samples(osrsP) + 0.575 : 0) +
      (this.latchedHumidity ? 2.3 * samples(this.latchedHumidity) + 0.575 : 0);
    this.measuringUntil = this.clock.now + timeMs + this.slowdownMs;
    this.pendingAdc = osrsT === 0 ? SKIPPED : bme280AdcFor(this.celsius, this.trimming);
  }

  private completeMeasurement(): void {
    if (this.pendingAdc === null || this.clock.now < this.measuringUntil) return;
    this.adcT = this.pendingAdc;
    this.pendingAdc = null;
    this.ctrlMeas &= ~0x03; // back to sleep mode
    this.measurements++;
  }
}
