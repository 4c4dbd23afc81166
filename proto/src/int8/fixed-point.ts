// Fixed-point requantization, bit-exact with TensorFlow Lite's reference code (double-rounding variant, the
// default build of TFLite Micro):
//   - tensorflow/lite/kernels/internal/quantization_util.cc  QuantizeMultiplier
//   - tensorflow/lite/kernels/internal/common.h               MultiplyByQuantizedMultiplier
//   - gemmlowp fixedpoint/fixedpoint.h                        SaturatingRoundingDoublingHighMul, RoundingDivideByPOT
// Jacob et al. 2018 (arXiv 1712.05877) §2.2: a real multiplier M = 2^−n × M0, M0 in [0.5, 1) held as a Q31 int32.
//
// JS numbers are doubles; every value here stays an integer below 2^53 in magnitude and every division is by a
// power of two followed by Math.floor, so each step is exact integer arithmetic — what TFLite does in int64.
// The 64-bit product is never formed: it is split into 16-bit halves of one operand. No BigInt, no allocation.
import { ProtoError } from '../errors.js';

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;
const TWO_POW_31 = 2147483648;

/** A real multiplier as TFLite stores it: real ≈ multiplier × 2^(shift − 31). */
export interface QuantizedMultiplier {
  /** Q31 significand in [2^30, 2^31 − 1], or 0 for a zero (or vanishingly small) multiplier. */
  multiplier: number;
  /** Power-of-two exponent: > 0 shifts left before the high multiply, < 0 rounds right after it. */
  shift: number;
}

/** std::frexp for a positive finite double: x = q × 2^exponent with q in [0.5, 1). Exact (powers of two). */
function frexp(x: number): { q: number; exponent: number } {
  let exponent = Math.floor(Math.log2(x)) + 1;
  let q = x * 2 ** -exponent;
  // log2 may be off by one next to a power of two; correct it exactly.
  while (q >= 1) { q /= 2; exponent += 1; }
  while (q < 0.5) { q *= 2; exponent -= 1; }
  return { q, exponent };
}

/**
 * tflite::QuantizeMultiplier: frexp, round q × 2^31 half away from zero (TfLiteRound), renormalise when that
 * rounds up to 2^31, and flush shifts below −31 (every bit would be shifted out) to multiplier 0, shift 0.
 * @throws ProtoError PROTO_ERR_BAD_QUANT_PARAMS for a negative or non-finite multiplier, or one ≥ 2^31
 *   (shift > 31 cannot be applied to an int32 accumulator).
 */
export function quantizeMultiplier(realMultiplier: number): QuantizedMultiplier {
  if (!(realMultiplier >= 0) || !Number.isFinite(realMultiplier)) {
    throw new ProtoError('PROTO_ERR_BAD_QUANT_PARAMS', `real multiplier ${realMultiplier}`);
  }
  // Below 2^−33 the shift ends below −31 even after renormalising, and TFLite flushes it; returning early also
  // keeps frexp's 2^−exponent finite for subnormal inputs.
  if (realMultiplier < 2 ** -33) return { multiplier: 0, shift: 0 };
  if (realMultiplier >= TWO_POW_31) throw new ProtoError('PROTO_ERR_BAD_QUANT_PARAMS', `real multiplier ${realMultiplier} ≥ 2^31`);
  const frac = frexp(realMultiplier);
  let shift = frac.exponent;
  let qFixed = Math.round(frac.q * TWO_POW_31); // q > 0: Math.round = round half away from zero; exact (× 2^31)
  if (qFixed === TWO_POW_31) {
    qFixed /= 2;
    shift += 1;
  }
  if (shift < -31) return { multiplier: 0, shift: 0 };
  return { multiplier: qFixed, shift };
}

/**
 * gemmlowp SaturatingRoundingDoublingHighMul: the high 32 bits of 2 × a × b, rounded to nearest by a nudge of
 * 2^30 (or 1 − 2^30 for a negative product) and C++'s truncating division by 2^31 — so ties round up for a
 * positive product and toward zero for a negative one (−1.5 → −1). The single overflow case
 * INT32_MIN × INT32_MIN saturates to INT32_MAX.
 */
export function saturatingRoundingDoublingHighMul(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const negative = (a < 0) !== (b < 0) && a !== 0 && b !== 0;
  const nudge = negative ? 1 - (1 << 30) : 1 << 30;
  // a × b = a × bHigh × 2^16 + a × bLow; both partial products are exact (< 2^47).
  const bLow = b & 0xffff;
  const bHigh = b >> 16;
  const low = a * bLow + nudge; // exact, |low| < 2^48
  const lowHigh = Math.floor(low / 65536); // exact: division by 2^16 of an integer, floored
  const lowRest = low - lowHigh * 65536; // in [0, 2^16)
  const s = a * bHigh + lowHigh; // a × b + nudge = s × 2^16 + lowRest, |s| < 2^47
  // floor((s × 2^16 + lowRest) / 2^31) = floor(s / 2^15) because 0 ≤ lowRest < 2^16.
  let q = Math.floor(s / 32768);
  if (negative && (lowRest !== 0 || s !== q * 32768)) q += 1; // C++ integer division truncates toward zero
  return q;
}

/**
 * gemmlowp RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero, for int32 x and
 * exponent in [0, 31].
 */
export function roundingDivideByPOT(x: number, exponent: number): number {
  const mask = exponent >= 31 ? 0x7fffffff : (1 << exponent) - 1;
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/**
 * tflite::MultiplyByQuantizedMultiplier (common.h): x × multiplier × 2^(shift − 31), rounded as TFLite rounds
 * (two roundings: the doubling high multiply, then the rounding right shift). A left shift wraps like the int32
 * multiplication it replaces.
 */
export function multiplyByQuantizedMultiplier(x: number, multiplier: number, shift: number): number {
  const leftShift = shift > 0 ? shift : 0;
  const rightShift = shift > 0 ? 0 : -shift;
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(Math.imul(x, 1 << leftShift), multiplier), rightShift);
}
