import type { VirtualClock } from './fake-bus.js';
import { twosComplement } from './encode.js';
import { WordRegisterChip } from './register-chip.js';

/**
 * TMP117: 1/128 °C two's complement at 0x00, which reads 0x8000 (-256 °C) until the first conversion
 * (125 ms with the default averaging) after power-up; device id 0x0117 at 0x0F.
 */
export class FakeTmp117 extends WordRegisterChip {
  celsius = 21.5;
  /** In shutdown mode the chip never converts. */
  shutdown = false;
  private readonly poweredAt: number;

  constructor(private readonly clock: VirtualClock) {
    super();
    this.poweredAt = clock.now;
  }

  protected readRegister(register: number): number {
    switch (register) {
      case 0x00:
        return this.shutdown || this.clock.now - this.poweredAt < 125 ? 0x8000 : twosComplement(this.celsius * 128, 16);
      case 0x01:
        return 0x0220;
      case 0x0f:
        return 0x0117;
      default:
        return 0;
    }
  }
}

/**
 * TMP102: 12-bit (or 13-bit in extended mode, flagged by bit 0) two's complement 1/16 °C, left-aligned.
 * Its pointer register decodes only bits 1:0, so register 0x0F reads as 0x03 (T_HIGH).
 */
export class FakeTmp102 extends WordRegisterChip {
  celsius = 21.5;
  extendedMode = false;

  protected readRegister(register: number): number {
    switch (register & 0x03) {
      case 0x00:
        return this.extendedMode ? (twosComplement(this.celsius * 16, 13) << 3) | 0x01 : twosComplement(this.celsius * 16, 12) << 4;
      case 0x01:
        return 0x60a0 | (this.extendedMode ? 0x0010 : 0);
      case 0x02:
        return 0x4b00; // T_LOW 75 °C
      default:
        return 0x5000; // T_HIGH 80 °C
    }
  }
}
