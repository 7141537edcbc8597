/**
 * Drawing on a decoded RGB frame in place (the snapshot overlay): filled and outlined rectangles and
 * pixel-font text, each clipped to the frame, so a box or label that reaches past an edge is cut off
 * instead of failing.
 */
import { ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyphRows } from './pixel-font.js';

/** 8-bit RGB pixels, row by row, 3 bytes a pixel (sharp's `raw()` output of a 3-band image). */
export interface RgbFrame {
  data: Buffer;
  width: number;
  height: number;
}

export type Rgb = readonly [number, number, number];

/** Fills x0 <= x < x1, y0 <= y < y1. */
export function fillRect(frame: RgbFrame, x0: number, y0: number, x1: number, y1: number, color: Rgb): void {
  const left = Math.max(0, Math.round(x0));
  const right = Math.min(frame.width, Math.round(x1));
  const top = Math.max(0, Math.round(y0));
  const bottom = Math.min(frame.height, Math.round(y1));
  for (let y = top; y < bottom; y++) {
    for (let x = left; x < right; x++) {
      const i = 3 * (y * frame.width + x);
      frame.data[i] = color[0];
      frame.data[i + 1] = color[1];
      frame.data[i + 2] = color[2];
    }
  }
}

/** The outline of the rectangle (x0, y0)-(x1, y1), `thickness` pixels wide and centred on its edges. */
export function strokeRect(frame: RgbFrame, x0: number, y0: number, x1: number, y1: number, thickness: number, color: Rgb): void {
  const inner = Math.floor(thickness / 2);
  const outer = thickness - inner;
  fillRect(frame, x0 - inner, y0 - inner, x1 + outer, y0 + outer, color);
  fillRect(frame, x0 - inner, y1 - inner, x1 + outer, y1 + outer, color);
  fillRect(frame, x0 - inner, y0 - inner, x0 + outer, y1 + outer, color);
  fillRect(frame, x1 - inner, y0 - inner, x1 + outer, y1 + outer, color);
}

/** Width in pixels of `text` drawn at `scale` (each font pixel a scale x scale square). */
export function textWidth(text: string, scale: number): number {
  return text.length === 0 ? 0 : (text.length * ADVANCE - (ADVANCE - GLYPH_WIDTH)) * scale;
}

/** Height in pixels of a line of text at `scale`. */
export const textHeight = (scale: number) => GLYPH_HEIGHT * scale;

/** Draws `text` with its top-left corner at (x, y). */
export function drawText(frame: RgbFrame, text: string, x: number, y: number, scale: number, color: Rgb): void {
  [...text].forEach((char, index) => {
    const left = x + index * ADVANCE * scale;
    glyphRows(char).forEach((row, r) => {
      for (let c = 0; c < GLYPH_WIDTH; c++) {
        if (row[c] === '#') fillRect(frame, left + c * scale, y + r * scale, left + (c + 1) * scale, y + (r + 1) * scale, color);
      }
    });
  });
}
