import { twosComplement } from './encode.js';
import { WordRegisterChip } from './register-chip.js';

/** MCP9808: T_A (0x05) as 13-bit two's complement 1/16 °C plus alert flag bits, ids at 0x06/0x07. */
export class FakeMcp9808 extends WordRegisterChip {
  celsius = 21.5;
  /** T_A bits 15..13 (TCRIT, TUPPER, TLOWER comparisons), which a driver must mask out. */
  alertFlags = 0;
  manufacturerId = 0x0054;
  deviceIdAndRevision = 0x0400;

  protected readRegister(register: number): number {
    switch (register) {
      case 0x05:
        return (this.alertFlags << 13) | twosComplement(this.celsius * 16, 13);
      case 0x06:
        return this.manufacturerId;
      case 0x07:
        return this.deviceIdAndRevision;
      case 0x08:
        return 0x0300; // resolution 0.0625 °C (read as one byte on the chip; fine as a word here)
      default:
        return 0;
    }
  }
}
