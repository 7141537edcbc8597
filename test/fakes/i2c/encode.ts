/** Helpers for turning a temperature into a chip's raw words: the inverse of the driver's formulas. */

/** `value` rounded and clamped to `bits`-bit two's complement, as the unsigned bit pattern. */
export function twosComplement(value: number, bits: number): number {
  const max = 2 ** (bits - 1) - 1;
  const clamped = Math.max(-max - 1, Math.min(max, Math.round(value)));
  return clamped < 0 ? clamped + 2 ** bits : clamped;
}

export function clampUnsigned(value: number, bits: number): number {
  return Math.max(0, Math.min(2 ** bits - 1, Math.round(value)));
}
