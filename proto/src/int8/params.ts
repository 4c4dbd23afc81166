// Quantization parameters per the TensorFlow Lite int8 spec
// (https://www.tensorflow.org/lite/performance/quantization_spec), real = scale × (q − zeroPoint):
//   - weights: int8 symmetric per output channel in [−127, 127], zeroPoint 0 (reuses ../quantize.ts);
//   - biases: int32, scale = inputScale × weightScale[channel], zeroPoint 0;
//   - activations: int8 asymmetric per tensor in [−128, 127], range widened to contain 0 so 0 is exact.
// Float arithmetic is allowed here: parameters are built once, off the inference path.
import { ProtoError } from '../errors.js';
import { asymmetricParams, quantizePerAxis } from '../quantize.js';
import { INT32_MAX, INT32_MIN, quantizeMultiplier } from './fixed-point.js';

/** Per-tensor affine parameters of an int8 activation tensor. */
export interface ActivationQuant {
  /** Positive float32 scale. */
  scale: number;
  /** Integer zero point in [−128, 127]. */
  zeroPoint: number;
}

/** Per-output-channel symmetric int8 weights, channel axis 0 (TFLite layout: dense [out, in], conv [out, h, w, in]). */
export interface ChannelWeights {
  q: Int8Array;
  /** One float32 scale per output channel. A channel of zeros has scale 1 (any positive scale is exact for it). */
  scales: Float32Array;
}

/**
 * Per-output-channel weights (axis 0). Degenerate cases, all from quantizePerAxis: a channel of zeros → scale 1,
 * codes 0; a constant channel c → scale |c|/127, codes ±127 (exact up to float32 rounding of the scale); one huge
 * outlier → it maps to ±127 and the rest of its channel loses resolution (other channels are unaffected — the
 * reason the spec quantizes weights per channel).
 */
export function quantizeWeightsPerChannel(weights: Float32Array, shape: readonly number[]): ChannelWeights {
  const { q, scales } = quantizePerAxis(weights, shape, 0);
  return { q, scales };
}

/**
 * Activation parameters from a calibrated range, widened to contain 0 (TFLite spec: 0 exactly representable;
 * Jacob et al. 2018 §2.1). Delegates to asymmetricParams: scale = (max − min)/255 rounded up to float32,
 * zeroPoint = round(−128 − min/scale). [0, 0] → scale 1, zeroPoint 0.
 */
export function activationQuant(min: number, max: number): ActivationQuant {
  return asymmetricParams(min, max);
}

/**
 * int32 biases, TFLite spec: bias scale per channel = inputScale × weightScales[c], zeroPoint 0, round half away
 * from zero, saturated to int32.
 */
export function quantizeBias(bias: Float32Array, inputScale: number, weightScales: Float32Array): Int32Array {
  if (bias.length !== weightScales.length) {
    throw new ProtoError('PROTO_ERR_BAD_QUANT_PARAMS', `${bias.length} biases for ${weightScales.length} channels`);
  }
  const out = new Int32Array(bias.length);
  for (let c = 0; c < bias.length; c++) {
    const v = bias[c] / (inputScale * weightScales[c]);
    if (!Number.isFinite(v)) throw new ProtoError('PROTO_ERR_NON_FINITE', `bias ${c}`);
    const r = v < 0 ? -Math.round(-v) : Math.round(v);
    out[c] = r > INT32_MAX ? INT32_MAX : r < INT32_MIN ? INT32_MIN : r;
  }
  return out;
}

/** Per-channel requantization from the int32 accumulator to the output tensor, as TFLite's PopulateConvolutionQuantizationParams. */
export interface ChannelRequant {
  multipliers: Int32Array;
  shifts: Int32Array;
}

/** effective_scale[c] = inputScale × weightScales[c] / outputScale, each quantized to (Q31 multiplier, shift). */
export function channelRequant(inputScale: number, weightScales: Float32Array, outputScale: number): ChannelRequant {
  const multipliers = new Int32Array(weightScales.length);
  const shifts = new Int32Array(weightScales.length);
  for (let c = 0; c < weightScales.length; c++) {
    // TFLite computes the effective scale in double from float32 scales (kernel_util.cc).
    const m = quantizeMultiplier((inputScale * weightScales[c]) / outputScale);
    multipliers[c] = m.multiplier;
    shifts[c] = m.shift;
  }
  return { multipliers, shifts };
}

/** Fused activation of an op, applied as an integer clamp of the output codes. */
export type FusedActivation = 'none' | 'relu' | 'relu6';

/**
 * tflite::CalculateActivationRangeQuantized: the code range [min, max] a fused activation clamps to, e.g. ReLU →
 * [max(−128, zeroPoint), 127], ReLU6 → also max ≤ zeroPoint + round(6 / scale).
 */
export function activationRange(activation: FusedActivation, out: ActivationQuant): { min: number; max: number } {
  const quantize = (real: number): number => out.zeroPoint + Math.round(real / out.scale);
  let min = -128;
  let max = 127;
  if (activation === 'relu' || activation === 'relu6') min = Math.max(min, quantize(0));
  if (activation === 'relu6') max = Math.min(max, quantize(6));
  return { min, max };
}

/**
 * Float → int8 codes with given activation parameters (e.g. a model's input): round(x / scale) + zeroPoint, half
 * away from zero, saturated to [−128, 127]. The one float step before an integer-only graph, not part of it.
 */
export function quantizeActivation(x: Float32Array, quant: ActivationQuant, out: Int8Array = new Int8Array(x.length)): Int8Array {
  const inv = 1 / quant.scale;
  for (let i = 0; i < x.length; i++) {
    const v = x[i] * inv;
    const code = (v < 0 ? -Math.round(-v) : Math.round(v)) + quant.zeroPoint;
    out[i] = code > 127 ? 127 : code < -128 ? -128 : code; // NaN → 0 via the Int8Array store
  }
  return out;
}
