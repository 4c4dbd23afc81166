import { describe, expect, it } from 'vitest';
import { comparable, ksDistance, psi, PSI_EPSILON } from '../../src/quality/drift-measures.js';

// Vectors computed by hand: proportions a (actual) and e (expected), PSI = Σ (a − e) ln(a / e), KS = max |A − E|.
describe('input drift measures', () => {
  it('PSI is 0 for equal distributions, whatever their totals', () => {
    expect(psi([1, 2, 1], [10, 20, 10])).toBeCloseTo(0, 12);
  });

  it('PSI of mirrored two-bin distributions is ln 3', () => {
    // a = (.75, .25), e = (.25, .75): .5 ln 3 + (−.5) ln(1/3) = ln 3.
    expect(psi([3, 1], [1, 3])).toBeCloseTo(1.0986122886681098, 12);
  });

  it('PSI over three bins', () => {
    // a = (.5, .25, .25), e = (.25, .25, .5): .25 ln 2 + 0 + (−.25) ln .5 = .5 ln 2.
    expect(psi([2, 1, 1], [1, 1, 2])).toBeCloseTo(0.34657359027997264, 12);
  });

  it('PSI counts an empty bin as holding PSI_EPSILON of the values', () => {
    expect(PSI_EPSILON).toBe(1e-4);
    // a = (1, 1e-4), e = (.5, .5): .5 ln 2 + (1e-4 − .5) ln(1e-4 / .5).
    expect(psi([7, 0], [3, 3])).toBeCloseTo(4.60431846666895, 10);
    expect(Number.isFinite(psi([0, 5], [5, 0]))).toBe(true);
  });

  it('KS is the largest difference of the cumulative proportions', () => {
    expect(ksDistance([3, 1], [1, 3])).toBeCloseTo(0.5, 12);
    expect(ksDistance([0, 0, 4], [4, 0, 0])).toBeCloseTo(1, 12);
    // A = (.25, .5, 1), E = (.5, .75, 1): max .25.
    expect(ksDistance([1, 1, 2], [2, 1, 1])).toBeCloseTo(0.25, 12);
    expect(ksDistance([1, 2, 1], [2, 4, 2])).toBeCloseTo(0, 12);
    // Per bin the gap is at most .5; cumulatively A = (.5, 1, 1, 1), E = (0, 0, .5, 1): 1.
    expect(ksDistance([1, 1, 0, 0], [0, 0, 1, 1])).toBeCloseTo(1, 12);
  });

  it('refuses bins of different counts, and compares only equal bins', () => {
    expect(() => psi([1, 1], [1, 1, 1])).toThrow(RangeError);
    expect(() => ksDistance([1], [1, 1])).toThrow(RangeError);
    const h = { lo: 0, hi: 1, counts: [1, 2], examples: 1 };
    expect(comparable(h, { ...h })).toBe(true);
    expect(comparable(h, { ...h, lo: -1 })).toBe(false);
    expect(comparable(h, { ...h, hi: 2 })).toBe(false);
    expect(comparable(h, { ...h, counts: [1, 2, 3] })).toBe(false);
  });
});
