import fc from 'fast-check';
import { expect, it } from 'vitest';
import { formatValue } from '../internal/escape.js';
import { sampleText } from '../textFormat.js';

// sampleText avoids String() on fractions (see its comment); it must spell every value exactly as formatValue does.
it('sampleText writes every double as formatValue does', () => {
  fc.assert(
    fc.property(fc.double(), (v) => {
      expect(sampleText(v)).toBe(formatValue(v));
    }),
    { numRuns: 20_000 },
  );
  for (const v of [0, -0, 1, -1, 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 1e21, 1.5e-7, 0.1, Number.MIN_VALUE])
    expect(sampleText(v)).toBe(formatValue(v));
  for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
    expect(sampleText(v)).toBe(formatValue(v));
});
