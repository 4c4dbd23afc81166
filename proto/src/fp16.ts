// IEEE 754-2008 binary16 ("half") <-> binary32 conversion over plain numbers and typed arrays.
// Node 20 has no Float16Array / Math.f16round, so the bit manipulation is done by hand.
// binary16: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits; max finite 65504, min subnormal 2^-24.

// One-element views used to read the bits of a float32 without allocating per call.
const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** Largest finite binary16 value. */
export const FP16_MAX = 65504;

/** Smallest positive binary16 normal value, 2^-14. */
export const FP16_MIN_NORMAL = 2 ** -14;

const FP16_MIN_SUBNORMAL = 2 ** -24;

/**
 * Converts a number to the bits of the nearest binary16 value, rounding to nearest, ties to even
 * (IEEE 754-2008 §4.3.1, roundTiesToEven). The input is first rounded to float32, as a Float32Array element is.
 * Magnitudes ≥ 65520 become ±Infinity, magnitudes ≤ 2^-25 become ±0, subnormals are produced in between,
 * NaN stays a (quiet) NaN.
 * @returns the 16-bit pattern in the low bits of an integer in [0, 0xffff].
 */
export function float32ToFloat16(value: number): number {
  f32Scratch[0] = value;
  const bits = u32Scratch[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp32 = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;

  if (exp32 === 0xff) {
    // Infinity keeps a zero fraction; NaN keeps its top payload bits and is forced quiet (never becomes Infinity).
    return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  }
  const exp16 = exp32 - 127 + 15;
  if (exp16 >= 0x1f) return sign | 0x7c00;

  if (exp16 <= 0) {
    // Result is subnormal (or zero): value = m × 2^-24 with m = mant24 >> (14 − exp16).
    if (exp16 < -10) return sign;
    const mant24 = mant | 0x800000;
    const shift = 14 - exp16;
    let half = mant24 >>> shift;
    const rest = mant24 & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half += 1;
    // A carry out of the fraction lands in the exponent field and yields the smallest normal, which is correct.
    return sign | half;
  }

  let half = (exp16 << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half += 1;
  // A carry may propagate into the exponent, up to 0x7c00 (Infinity): correct rounding of values ≥ 65520.
  return sign | half;
}

/** Converts the bits of a binary16 value (an integer in [0, 0xffff]) to the number it denotes, exactly. */
export function float16ToFloat32(bits: number): number {
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  const negative = (bits & 0x8000) !== 0;
  if (exp === 0) {
    const magnitude = mant * FP16_MIN_SUBNORMAL;
    return negative ? -magnitude : magnitude;
  }
  if (exp === 0x1f) {
    if (mant !== 0) return Number.NaN;
    return negative ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  u32Scratch[0] = ((bits & 0x8000) << 16) | ((exp + 112) << 23) | (mant << 13);
  return f32Scratch[0];
}

/** True when the binary16 bit pattern is NaN or ±Infinity. */
export function isFloat16NonFinite(bits: number): boolean {
  return (bits & 0x7c00) === 0x7c00;
}

/**
 * Converts every element of `src` to binary16 bits.
 * @param out destination of at least `src.length` elements; allocated when omitted.
 */
export function encodeFloat16(src: Float32Array, out: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  for (let i = 0; i < src.length; i++) out[i] = float32ToFloat16(src[i]);
  return out;
}

/**
 * Converts binary16 bits back to float32 values (exact: every binary16 value is a float32 value).
 * @param out destination of at least `src.length` elements; allocated when omitted.
 */
export function decodeFloat16(src: Uint16Array, out: Float32Array = new Float32Array(src.length)): Float32Array {
  for (let i = 0; i < src.length; i++) out[i] = float16ToFloat32(src[i]);
  return out;
}
