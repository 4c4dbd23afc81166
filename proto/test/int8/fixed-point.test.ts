import { describe, expect, it } from 'vitest';
import {
  INT32_MAX, INT32_MIN, ProtoError, mulberry32, multiplyByQuantizedMultiplier, quantizeMultiplier,
  roundingDivideByPOT, saturatingRoundingDoublingHighMul,
} from '../../src/index.js';

// Independent references in BigInt, written from the gemmlowp / TFLite definitions (int64 arithmetic, C++
// truncating division), not from the implementation under test.
function refHighMul(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return Number((ab + nudge) / (1n << 31n)); // BigInt division truncates toward zero, like C++
}

/** x / 2^e rounded to nearest, ties away from zero. */
function refDivPOT(x: number, e: number): number {
  const bx = BigInt(x);
  const d = 1n << BigInt(e);
  const floor = bx >> BigInt(e); // floor division
  const twiceRem = 2n * (bx - floor * d);
  if (twiceRem > d || (twiceRem === d && bx > 0n)) return Number(floor + 1n);
  return Number(floor);
}

function refMbqm(x: number, m: number, shift: number): number {
  const left = shift > 0 ? shift : 0;
  const shifted = Number(BigInt.asIntN(32, BigInt(x) << BigInt(left)));
  return refDivPOT(refHighMul(shifted, m), shift > 0 ? 0 : -shift);
}

function randomInt32(rng: () => number): number {
  return (Math.floor(rng() * 2 ** 32) | 0);
}

describe('saturatingRoundingDoublingHighMul (gemmlowp)', () => {
  it('matches hand-computed vectors', () => {
    // 2^30 × 2^30 × 2 / 2^32 = 2^29.
    expect(saturatingRoundingDoublingHighMul(2 ** 30, 2 ** 30)).toBe(2 ** 29);
    // 3 × 2^30 = 1.5 × 2^31 → 2. Negative ties round toward zero: the nudge is 1 − 2^30, not −2^30, so
    // (−1.5 × 2^31 + 1 − 2^30) / 2^31 = −1.99… truncates to −1 (gemmlowp's behaviour, kept bit-exact).
    expect(saturatingRoundingDoublingHighMul(3, 2 ** 30)).toBe(2);
    expect(saturatingRoundingDoublingHighMul(-3, 2 ** 30)).toBe(-1);
    expect(saturatingRoundingDoublingHighMul(3, -(2 ** 30))).toBe(-1);
    // 0.5 → 1; −0.5 → 0 for the same reason.
    expect(saturatingRoundingDoublingHighMul(1, 2 ** 30)).toBe(1);
    expect(saturatingRoundingDoublingHighMul(-1, 2 ** 30)).toBe(0);
    // Just past the negative tie: −3 × (2^30 + 1) / 2^31 = −1.5000000014 → −2.
    expect(saturatingRoundingDoublingHighMul(-3, 2 ** 30 + 1)).toBe(-2);
    // Just below the tie: (2^30 − 1) / 2^31 < 0.5 → 0.
    expect(saturatingRoundingDoublingHighMul(1, 2 ** 30 - 1)).toBe(0);
    expect(saturatingRoundingDoublingHighMul(-1, 2 ** 30 - 1)).toBe(0);
    // The one overflow: INT32_MIN² × 2 / 2^32 = 2^31 saturates.
    expect(saturatingRoundingDoublingHighMul(INT32_MIN, INT32_MIN)).toBe(INT32_MAX);
    expect(saturatingRoundingDoublingHighMul(INT32_MIN, INT32_MAX)).toBe(-INT32_MAX);
    expect(saturatingRoundingDoublingHighMul(INT32_MAX, INT32_MAX)).toBe(INT32_MAX - 1);
    expect(saturatingRoundingDoublingHighMul(0, INT32_MIN)).toBe(0);
  });

  it('equals the int64 (BigInt) definition on edge and random operands', () => {
    const edges = [0, 1, -1, 2, -2, 3, 65535, 65536, -65536, -65537, 2 ** 30, -(2 ** 30), INT32_MAX, INT32_MIN, INT32_MIN + 1];
    for (const a of edges) for (const b of edges) expect(saturatingRoundingDoublingHighMul(a, b), `${a} × ${b}`).toBe(refHighMul(a, b));
    const rng = mulberry32(7);
    for (let i = 0; i < 20_000; i++) {
      const a = randomInt32(rng);
      const b = i % 2 ? randomInt32(rng) : (randomInt32(rng) >> Math.floor(rng() * 31));
      expect(saturatingRoundingDoublingHighMul(a, b)).toBe(refHighMul(a, b));
    }
  });
});

describe('roundingDivideByPOT (gemmlowp)', () => {
  it('rounds to nearest with ties away from zero', () => {
    expect(roundingDivideByPOT(5, 1)).toBe(3); // 2.5 → 3
    expect(roundingDivideByPOT(-5, 1)).toBe(-3); // −2.5 → −3
    expect(roundingDivideByPOT(6, 2)).toBe(2); // 1.5 → 2
    expect(roundingDivideByPOT(-6, 2)).toBe(-2); // −1.5 → −2
    expect(roundingDivideByPOT(-7, 2)).toBe(-2); // −1.75 → −2
    expect(roundingDivideByPOT(-5, 2)).toBe(-1); // −1.25 → −1
    expect(roundingDivideByPOT(7, 0)).toBe(7);
    expect(roundingDivideByPOT(INT32_MIN, 31)).toBe(-1);
    expect(roundingDivideByPOT(INT32_MAX, 31)).toBe(1);
    expect(roundingDivideByPOT(2 ** 30, 31)).toBe(1); // 0.5 → 1
    expect(roundingDivideByPOT(-(2 ** 30), 31)).toBe(-1); // −0.5 → −1
  });

  it('equals the BigInt definition', () => {
    const rng = mulberry32(11);
    for (let i = 0; i < 20_000; i++) {
      const x = randomInt32(rng) >> Math.floor(rng() * 32);
      const e = Math.floor(rng() * 32);
      expect(roundingDivideByPOT(x, e), `${x} / 2^${e}`).toBe(refDivPOT(x, e));
    }
  });
});

describe('quantizeMultiplier (tflite::QuantizeMultiplier)', () => {
  it('matches hand-computed vectors', () => {
    expect(quantizeMultiplier(0)).toEqual({ multiplier: 0, shift: 0 });
    expect(quantizeMultiplier(0.5)).toEqual({ multiplier: 2 ** 30, shift: 0 });
    expect(quantizeMultiplier(1)).toEqual({ multiplier: 2 ** 30, shift: 1 });
    expect(quantizeMultiplier(0.25)).toEqual({ multiplier: 2 ** 30, shift: -1 });
    expect(quantizeMultiplier(0.75)).toEqual({ multiplier: 1610612736, shift: 0 });
    expect(quantizeMultiplier(3)).toEqual({ multiplier: 1610612736, shift: 2 });
    // 1/3 = 0.666… × 2^−1: round(2^31 × 2/3) = 1431655765.
    expect(quantizeMultiplier(1 / 3)).toEqual({ multiplier: 1431655765, shift: -1 });
    // q × 2^31 rounds up to 2^31: renormalised to 2^30 with the exponent one higher.
    expect(quantizeMultiplier(1 - 2 ** -40)).toEqual({ multiplier: 2 ** 30, shift: 1 });
    // Shift below −31 would shift every bit out: flushed to 0.
    expect(quantizeMultiplier(2 ** -40)).toEqual({ multiplier: 0, shift: 0 });
    expect(quantizeMultiplier(2 ** -32)).toEqual({ multiplier: 2 ** 30, shift: -31 });
    // Just below 2^−32, q × 2^31 rounds up to 2^31 and the renormalised shift −31 survives.
    expect(quantizeMultiplier(2 ** -32 - 2 ** -80)).toEqual({ multiplier: 2 ** 30, shift: -31 });
    expect(quantizeMultiplier(2 ** -33)).toEqual({ multiplier: 0, shift: 0 });
    expect(quantizeMultiplier(Number.MIN_VALUE)).toEqual({ multiplier: 0, shift: 0 }); // subnormal
    expect(quantizeMultiplier(2 ** 31 - 1)).toEqual({ multiplier: 2 ** 31 - 1, shift: 31 });
  });

  it('refuses negative, non-finite and too large multipliers', () => {
    for (const bad of [-0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
      expect(() => quantizeMultiplier(bad)).toThrow(ProtoError);
    }
  });
});

describe('multiplyByQuantizedMultiplier (tflite common.h)', () => {
  it('matches hand-computed vectors for shift < 0, = 0 and > 0', () => {
    const third = quantizeMultiplier(1 / 3); // shift −1
    expect(multiplyByQuantizedMultiplier(300, third.multiplier, third.shift)).toBe(100);
    // −301 / 3 = −100.33, but TFLite rounds twice: high mul → −201 (−200.67 rounded), then −201 / 2 = −100.5 → −101.
    expect(multiplyByQuantizedMultiplier(-301, third.multiplier, third.shift)).toBe(-101);
    expect(multiplyByQuantizedMultiplier(-302, third.multiplier, third.shift)).toBe(-101);
    const three = quantizeMultiplier(3); // shift 2
    expect(multiplyByQuantizedMultiplier(-7, three.multiplier, three.shift)).toBe(-21);
    const half = quantizeMultiplier(0.5); // shift 0
    expect(multiplyByQuantizedMultiplier(3, half.multiplier, half.shift)).toBe(2); // 1.5 → 2
    expect(multiplyByQuantizedMultiplier(-3, half.multiplier, half.shift)).toBe(-1); // −1.5 → −1 (negative tie, see above)
    const quarter = quantizeMultiplier(0.25); // shift −1: two roundings, as TFLite
    expect(multiplyByQuantizedMultiplier(6, quarter.multiplier, quarter.shift)).toBe(2); // 1.5 → 2
    expect(multiplyByQuantizedMultiplier(-6, quarter.multiplier, quarter.shift)).toBe(-2);
  });

  it('equals the BigInt composition and approximates x × real within 1', () => {
    const rng = mulberry32(3);
    for (let i = 0; i < 20_000; i++) {
      const real = 2 ** (rng() * 20 - 16); // 2^−16 … 2^4
      const { multiplier, shift } = quantizeMultiplier(real);
      const x = Math.floor((rng() * 2 - 1) * 2 ** 26);
      const got = multiplyByQuantizedMultiplier(x, multiplier, shift);
      expect(got).toBe(refMbqm(x, multiplier, shift));
      expect(Math.abs(got - x * real)).toBeLessThanOrEqual(1);
    }
  });
});
