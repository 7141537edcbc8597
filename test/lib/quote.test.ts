import { describe, expect, it } from 'vitest';
import { quote, truncate } from '../../agent/lib/quote.js';

describe('quote and truncate', () => {
  it('quotes short values whole, as JSON', () => {
    expect(quote('abc')).toBe('"abc"');
    expect(quote(12)).toBe('12');
    expect(quote(null)).toBe('null');
    expect(quote(undefined)).toBe('undefined');
    expect(quote('line\nbreak')).toBe('"line\\nbreak"');
  });

  it('cuts long values, saying how long they were', () => {
    const value = 'x'.repeat(1_000_000);
    expect(quote(value)).toBe(`"${'x'.repeat(63)}… (1000002 characters)`);
    expect(quote(value, 10)).toBe(`"${'x'.repeat(9)}… (1000002 characters)`);
    expect(truncate(value, 5)).toBe('xxxxx…');
    expect(truncate('short', 5)).toBe('short');
  });

  it('quotes what JSON cannot spell', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(quote(cyclic)).toBe('[object Object]');
    expect(quote(10n)).toBe('10');
  });
});
