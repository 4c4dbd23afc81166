import { describe, expect, it } from 'vitest';
import {
  activationQuant, activationRange, channelRequant, dequantizePerAxis, mulberry32, quantizeAsymmetric, quantizeBias,
  quantizeMultiplier, quantizeWeightsPerChannel,
} from '../../src/index.js';

function maxRoundTripError(x: Float32Array, q: Int8Array, scales: Float32Array, inner: number): number[] {
  const worst = new Array<number>(scales.length).fill(0);
  for (let i = 0; i < x.length; i++) {
    const c = Math.floor(i / inner);
    worst[c] = Math.max(worst[c], Math.abs(x[i] - scales[c] * q[i]) / scales[c]);
  }
  return worst;
}

describe('int8 weights, per output channel (TFLite spec: symmetric, [−127, 127], zeroPoint 0)', () => {
  it('quantizes each channel with its own scale, codes within [−127, 127]', () => {
    // [out = 2, in = 3].
    const x = new Float32Array([1, -0.6, 0.25, 0.03, -0.04, 0.01]);
    const { q, scales } = quantizeWeightsPerChannel(x, [2, 3]);
    expect(Math.abs(scales[0] - 1 / 127)).toBeLessThan(1e-9); // float32 rounding of 1/127
    expect(Math.abs(scales[1] - 0.04 / 127)).toBeLessThan(1e-10);
    expect([...q]).toEqual([127, -76, 32, 95, -127, 32]); // −76.2 → −76, 31.75 → 32, 95.25 → 95, 31.75 → 32
    for (const err of maxRoundTripError(x, q, scales, 3)) expect(err).toBeLessThanOrEqual(0.5 + 1e-6);
  });

  it('handles a channel of zeros (scale 1, codes 0), a constant channel and one huge outlier', () => {
    const x = new Float32Array([0, 0, 0, 0, 0.3, 0.3, 0.3, 0.3, 1e6, 0.001, -0.002, 0.5]);
    const { q, scales } = quantizeWeightsPerChannel(x, [3, 4]);
    expect(scales[0]).toBe(1);
    expect([...q.subarray(0, 4)]).toEqual([0, 0, 0, 0]);
    expect([...q.subarray(4, 8)]).toEqual([127, 127, 127, 127]);
    expect(q[8]).toBe(127);
    expect([...q.subarray(9, 12)]).toEqual([0, 0, 0]); // lost in the outlier's step, error ≤ half a step
    for (const err of maxRoundTripError(x, q, scales, 4)) expect(err).toBeLessThanOrEqual(0.5 + 1e-6);
    const back = dequantizePerAxis(q, scales, [3, 4], 0);
    expect(back[0]).toBe(0);
    expect(back[4]).toBeCloseTo(0.3, 6);
  });

  it('round-trips random channels within half a step', () => {
    const rng = mulberry32(5);
    const x = new Float32Array(64 * 50);
    for (let i = 0; i < x.length; i++) x[i] = (rng() * 2 - 1) * (1 + Math.floor(i / 50));
    const { q, scales } = quantizeWeightsPerChannel(x, [64, 50]);
    for (const err of maxRoundTripError(x, q, scales, 50)) expect(err).toBeLessThanOrEqual(0.5 + 1e-6);
  });
});

describe('int32 biases (scale = inputScale × weightScale[c], zeroPoint 0)', () => {
  it('matches hand-computed codes, ties away from zero', () => {
    const codes = quantizeBias(new Float32Array([1, -1, 0.1875, -0.1875]), 0.5, new Float32Array([0.25, 0.125, 0.25, 0.25]));
    // 1 / 0.125 = 8; −1 / 0.0625 = −16; 0.1875 / 0.125 = 1.5 → 2; −1.5 → −2.
    expect([...codes]).toEqual([8, -16, 2, -2]);
  });

  it('saturates to int32 instead of wrapping', () => {
    const codes = quantizeBias(new Float32Array([1e6, -1e6]), 1e-4, new Float32Array([1e-4, 1e-4]));
    expect([...codes]).toEqual([2147483647, -2147483648]);
  });
});

describe('int8 activations (asymmetric per tensor, [−128, 127], 0 exact)', () => {
  it('widens the range to contain 0', () => {
    const positive = activationQuant(0.5, 2); // → [0, 2]
    expect(positive.zeroPoint).toBe(-128);
    expect(positive.scale).toBeCloseTo(2 / 255, 9);
    const negative = activationQuant(-1, -0.5); // → [−1, 0]
    expect(negative.zeroPoint).toBe(127);
    const zero = activationQuant(0, 0);
    expect(zero).toEqual({ scale: 1, zeroPoint: 0 });
  });

  it('represents 0 exactly and round-trips within half a step', () => {
    const rng = mulberry32(9);
    for (const [min, max] of [[-1, 3], [-0.3, 0.7], [0, 6], [-5, -1], [0.2, 0.9]]) {
      const p = activationQuant(min, max);
      expect(Number.isInteger(p.zeroPoint)).toBe(true);
      expect(p.scale * (p.zeroPoint - p.zeroPoint)).toBe(0);
      const lo = Math.min(min, 0);
      const hi = Math.max(max, 0);
      const x = new Float32Array(1000);
      for (let i = 0; i < x.length; i++) x[i] = lo + rng() * (hi - lo);
      x[0] = 0;
      const { q, scale, zeroPoint } = quantizeAsymmetric(x, min, max);
      expect(q[0]).toBe(zeroPoint);
      for (let i = 0; i < x.length; i++) expect(Math.abs(scale * (q[i] - zeroPoint) - x[i])).toBeLessThanOrEqual(scale / 2 + 1e-7);
    }
  });

  it('maps fused ReLU / ReLU6 to code clamps (CalculateActivationRangeQuantized)', () => {
    const out = { scale: 0.05, zeroPoint: -28 };
    expect(activationRange('none', out)).toEqual({ min: -128, max: 127 });
    expect(activationRange('relu', out)).toEqual({ min: -28, max: 127 });
    expect(activationRange('relu6', out)).toEqual({ min: -28, max: 92 }); // −28 + 6 / 0.05
    expect(activationRange('relu6', { scale: 0.01, zeroPoint: -128 })).toEqual({ min: -128, max: 127 });
  });
});

describe('per-channel requantization', () => {
  it('quantizes inputScale × weightScale[c] / outputScale for each channel', () => {
    const { multipliers, shifts } = channelRequant(0.5, new Float32Array([0.25, 0.75]), 0.125);
    expect([multipliers[0], shifts[0]]).toEqual([quantizeMultiplier(1).multiplier, quantizeMultiplier(1).shift]);
    expect([multipliers[1], shifts[1]]).toEqual([quantizeMultiplier(3).multiplier, quantizeMultiplier(3).shift]);
  });
});
