// int8 quantization after the TensorFlow Lite 8-bit quantization specification
// (https://www.tensorflow.org/lite/performance/quantization_spec): real_value = (int8_value − zero_point) × scale.
//   - weights: symmetric, zero_point 0, values in [−127, 127] (−128 unused so the range is symmetric),
//     per tensor or per output channel ("per-axis");
//   - activations: asymmetric per tensor in [−128, 127], the range must contain 0 and 0 must be exactly
//     representable (the zero point is an integer).
// Scales are float32 on the wire (`Tensor.scale`), so every scale returned here is already a float32 value and
// the codes are computed against that exact scale.
import { ProtoError } from './errors.js';

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** Symmetric int8 code range, TFLite spec: weights use [−127, 127]. */
export const INT8_SYMMETRIC_MAX = 127;
/** Asymmetric int8 code range, TFLite spec: activations use [−128, 127]. */
export const INT8_MIN = -128;
export const INT8_MAX = 127;

/** Per-tensor quantization result: `real = scale × (q − zeroPoint)`. */
export interface QuantizedTensor {
  q: Int8Array;
  /** Positive float32 scale. */
  scale: number;
  /** Integer zero point in [−128, 127]; 0 for symmetric quantization. */
  zeroPoint: number;
}

/** Per-axis (per-channel) symmetric quantization result: zero points are all 0. */
export interface PerAxisQuantizedTensor {
  q: Int8Array;
  /** One positive float32 scale per index along `axis`. */
  scales: Float32Array;
  /** Quantized dimension (TFLite `quantized_dimension`). */
  axis: number;
}

export interface SymmetricQuantizeOptions {
  /**
   * Stochastic rounding: q = ⌊x/scale + u⌋ with u uniform in [0, 1), so E[scale × q] = x (unbiased). Used for
   * uplink updates, where many clients' rounding errors must average out instead of adding up a bias.
   * Default false: round to nearest (half away from zero, like TFLite's `TfLiteRound`).
   */
  stochastic?: boolean;
  /** Uniform random source in [0, 1) for stochastic rounding. Default `Math.random`. Inject a seeded one in tests. */
  rng?: () => number;
  /** Destination for the codes, at least `x.length` long; allocated when omitted. */
  out?: Int8Array;
}

/** Clamps a code to the symmetric range [−127, 127]. */
function clampSymmetric(code: number): number {
  return code > INT8_SYMMETRIC_MAX ? INT8_SYMMETRIC_MAX : code < -INT8_SYMMETRIC_MAX ? -INT8_SYMMETRIC_MAX : code;
}

/** Round half away from zero (std::round), as the TFLite reference kernels do. */
function roundHalfAway(v: number): number {
  return v < 0 ? -Math.round(-v) : Math.round(v);
}

/**
 * Smallest float32 ≥ range / steps and > 0, so that |x| / scale ≤ steps holds for every |x| ≤ range even after
 * the scale is rounded to float32 for the wire. Infinity when range / steps overflows float32.
 */
function scaleFor(range: number, steps: number): number {
  if (range === 0) return 1; // all zeros: any positive scale encodes them exactly; 1 keeps the spec's scale > 0
  let scale = Math.fround(range / steps);
  if (scale === 0 || scale * steps < range) {
    f32Scratch[0] = scale;
    u32Scratch[0] += 1; // next float32 up (scale is non-negative and finite)
    scale = f32Scratch[0];
  }
  return scale;
}

function nonFinite(where: string, index: number): ProtoError {
  return new ProtoError('PROTO_ERR_NON_FINITE', `${where} element ${index}`);
}

/** Largest |x|; throws PROTO_ERR_NON_FINITE on NaN or ±Infinity. */
function maxAbsOf(x: Float32Array): number {
  let max = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const a = v < 0 ? -v : v;
    if (!(a <= Number.MAX_VALUE)) throw nonFinite('input', i);
    if (a > max) max = a;
  }
  return max;
}

/**
 * Per-tensor symmetric int8 quantization (TFLite weights, zero_point 0, codes in [−127, 127]),
 * scale = max|x| / 127 rounded up to a float32. An all-zero tensor gets scale 1 and all-zero codes.
 * Error per element: ≤ scale/2 with round-to-nearest, < scale with stochastic rounding.
 * @throws ProtoError PROTO_ERR_NON_FINITE when `x` contains NaN or ±Infinity.
 */
export function quantizeSymmetric(x: Float32Array, options: SymmetricQuantizeOptions = {}): QuantizedTensor {
  const scale = scaleFor(maxAbsOf(x), INT8_SYMMETRIC_MAX);
  const q = options.out ?? new Int8Array(x.length);
  if (q.length < x.length) throw new ProtoError('PROTO_ERR_BAD_TENSOR', `output holds ${q.length} < ${x.length}`);
  const inv = 1 / scale;
  if (options.stochastic) {
    const rng = options.rng ?? Math.random;
    for (let i = 0; i < x.length; i++) {
      // ⌊v + u⌋ = ⌊v⌋ + 1 with probability frac(v): E = v. |v| ≤ 127 by the choice of scale, so the clamp only
      // catches the 1-ulp slack of the multiplication by 1/scale.
      q[i] = clampSymmetric(Math.floor(x[i] * inv + rng()));
    }
  } else {
    for (let i = 0; i < x.length; i++) {
      q[i] = clampSymmetric(roundHalfAway(x[i] * inv));
    }
  }
  return { q, scale, zeroPoint: 0 };
}

/**
 * Dequantizes per-tensor codes: real = scale × (q − zeroPoint) (TFLite spec).
 * @param out destination of at least `q.length` elements; allocated when omitted.
 */
export function dequantize(
  q: Int8Array,
  scale: number,
  zeroPoint = 0,
  out: Float32Array = new Float32Array(q.length),
): Float32Array {
  for (let i = 0; i < q.length; i++) out[i] = scale * (q[i] - zeroPoint);
  return out;
}

/** Splits `shape` around `axis` into outer × channels × inner, validating both. */
function axisLayout(
  shape: readonly number[],
  axis: number,
  length: number,
): { outer: number; channels: number; inner: number } {
  if (shape.length === 0 || !Number.isInteger(axis) || axis < 0 || axis >= shape.length) {
    throw new ProtoError('PROTO_ERR_BAD_QUANT_PARAMS', `axis ${axis} for shape [${shape.join(',')}]`);
  }
  let outer = 1;
  let inner = 1;
  for (let d = 0; d < shape.length; d++) {
    const dim = shape[d];
    if (!Number.isInteger(dim) || dim < 0) throw new ProtoError('PROTO_ERR_BAD_TENSOR', `dimension ${d} is ${dim}`);
    if (d < axis) outer *= dim;
    else if (d > axis) inner *= dim;
  }
  const channels = shape[axis];
  if (outer * channels * inner !== length) {
    throw new ProtoError('PROTO_ERR_BAD_TENSOR', `${length} values for shape [${shape.join(',')}]`);
  }
  return { outer, channels, inner };
}

/**
 * Per-axis (per-output-channel) symmetric int8 quantization, TFLite spec for conv and dense weights: one scale
 * per index along `axis`, zero points 0, codes in [−127, 127], round to nearest unless `options.stochastic`
 * (unbiased per element, as in {@link quantizeSymmetric}). For the TensorFlow.js layouts the output channel is
 * the last axis — dense kernels `[in, out]`, conv2d kernels `[kh, kw, in, out]` — which is the default. A channel
 * of zeros gets scale 1.
 * @param axis quantized dimension. Default `shape.length − 1`.
 * @param options `stochastic` and `rng` as in {@link quantizeSymmetric}; `out` is not used.
 * @throws ProtoError PROTO_ERR_NON_FINITE on NaN/±Infinity, PROTO_ERR_BAD_TENSOR when `x` does not match
 * `shape`, PROTO_ERR_BAD_QUANT_PARAMS on an invalid axis.
 */
export function quantizePerAxis(
  x: Float32Array,
  shape: readonly number[],
  axis = shape.length - 1,
  options: Omit<SymmetricQuantizeOptions, 'out'> = {},
): PerAxisQuantizedTensor {
  const { outer, channels, inner } = axisLayout(shape, axis, x.length);
  const maxes = new Float64Array(channels);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      let max = maxes[c];
      for (let k = 0; k < inner; k++) {
        const v = x[base + k];
        const a = v < 0 ? -v : v;
        if (!(a <= Number.MAX_VALUE)) throw nonFinite('input', base + k);
        if (a > max) max = a;
      }
      maxes[c] = max;
    }
  }
  const scales = new Float32Array(channels);
  const inverses = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    scales[c] = scaleFor(maxes[c], INT8_SYMMETRIC_MAX);
    inverses[c] = 1 / scales[c];
  }
  const q = new Int8Array(x.length);
  const rng = options.stochastic ? options.rng ?? Math.random : undefined;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      const inv = inverses[c];
      if (rng) {
        for (let k = 0; k < inner; k++) q[base + k] = clampSymmetric(Math.floor(x[base + k] * inv + rng()));
      } else {
        for (let k = 0; k < inner; k++) q[base + k] = clampSymmetric(roundHalfAway(x[base + k] * inv));
      }
    }
  }
  return { q, scales, axis };
}

/**
 * Dequantizes per-axis codes: real = scales[c] × q, c the index along `axis`.
 * @throws ProtoError PROTO_ERR_BAD_QUANT_PARAMS when `scales` does not have one entry per channel.
 */
export function dequantizePerAxis(
  q: Int8Array,
  scales: Float32Array,
  shape: readonly number[],
  axis = shape.length - 1,
  out: Float32Array = new Float32Array(q.length),
): Float32Array {
  const { outer, channels, inner } = axisLayout(shape, axis, q.length);
  if (scales.length !== channels) {
    throw new ProtoError('PROTO_ERR_BAD_QUANT_PARAMS', `${scales.length} scales for ${channels} channels`);
  }
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      const scale = scales[c];
      for (let k = 0; k < inner; k++) out[base + k] = scale * q[base + k];
    }
  }
  return out;
}

/**
 * Asymmetric per-tensor int8 parameters for a calibrated range (TFLite activations): the range is first widened
 * to contain 0, scale = (max − min) / 255 as float32, zeroPoint = round(−128 − min/scale) clamped to [−128, 127],
 * so that real 0 is exactly the code `zeroPoint` (Jacob et al. 2017, §2.1 "nudged" zero point). A range of
 * [0, 0] gives scale 1, zeroPoint 0.
 * @throws ProtoError PROTO_ERR_BAD_QUANT_PARAMS when min > max or either is not finite.
 */
export function asymmetricParams(min: number, max: number): { scale: number; zeroPoint: number } {
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) {
    throw new ProtoError('PROTO_ERR_BAD_QUANT_PARAMS', `range [${min}, ${max}]`);
  }
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  if (hi === lo) return { scale: 1, zeroPoint: 0 };
  const scale = scaleFor(hi - lo, INT8_MAX - INT8_MIN);
  if (scale === Number.POSITIVE_INFINITY) {
    throw new ProtoError('PROTO_ERR_BAD_QUANT_PARAMS', `range [${min}, ${max}] overflows float32`);
  }
  const zp = roundHalfAway(INT8_MIN - lo / scale);
  return { scale, zeroPoint: zp < INT8_MIN ? INT8_MIN : zp > INT8_MAX ? INT8_MAX : zp };
}

/**
 * Asymmetric per-tensor int8 quantization for activations over a calibrated range [min, max]: values outside
 * the range saturate to −128 / 127. Round to nearest.
 * @throws ProtoError PROTO_ERR_NON_FINITE on NaN/±Infinity input, PROTO_ERR_BAD_QUANT_PARAMS on a bad range.
 */
export function quantizeAsymmetric(
  x: Float32Array,
  min: number,
  max: number,
  out: Int8Array = new Int8Array(x.length),
): QuantizedTensor {
  const { scale, zeroPoint } = asymmetricParams(min, max);
  const inv = 1 / scale;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (!(v - v === 0)) throw nonFinite('input', i);
    const code = roundHalfAway(v * inv) + zeroPoint;
    out[i] = code > INT8_MAX ? INT8_MAX : code < INT8_MIN ? INT8_MIN : code;
  }
  return { q: out, scale, zeroPoint };
}
