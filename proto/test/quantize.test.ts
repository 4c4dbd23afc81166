import { describe, expect, it } from 'vitest';
import {
  FP16_MAX, ProtoError, asymmetricParams, decodeFloat16, dequantize, dequantizePerAxis, encodeFloat16, float16ToFloat32,
  float32ToFloat16, mulberry32, quantizeAsymmetric, quantizePerAxis, quantizeSymmetric,
} from '../src/index.js';

function randomArray(n: number, rng: () => number, amplitude = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rng() * 2 - 1) * amplitude;
  return out;
}

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtoError);
    expect((error as ProtoError).code).toBe(code);
    return;
  }
  expect.unreachable(`expected ${code}`);
}

describe('fp16 (IEEE 754 binary16)', () => {
  it('maps known values to their bit patterns', () => {
    const cases: Array<[number, number]> = [
      [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [FP16_MAX, 0x7bff],
      [2 ** -14, 0x0400], [2 ** -24, 0x0001], [2 ** -14 - 2 ** -24, 0x03ff],
      [Number.POSITIVE_INFINITY, 0x7c00], [Number.NEGATIVE_INFINITY, 0xfc00],
      // Round to nearest, ties to even.
      [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [65519, 0x7bff], [65520, 0x7c00], [1e6, 0x7c00],
      [2 ** -25, 0x0000], [1.5 * 2 ** -25, 0x0001], [3 * 2 ** -25, 0x0002], [2 ** -26, 0x0000], [1e-45, 0x0000],
    ];
    for (const [value, bits] of cases) expect(float32ToFloat16(value), `${value}`).toBe(bits);
    const nan = float32ToFloat16(Number.NaN);
    expect(nan & 0x7c00).toBe(0x7c00);
    expect(nan & 0x03ff).not.toBe(0);
    expect(Object.is(float16ToFloat32(0x8000), -0)).toBe(true);
    expect(float16ToFloat32(0x7e00)).toBeNaN();
  });

  it('round-trips every one of the 65,536 bit patterns (NaNs stay NaN)', () => {
    const mismatches: number[] = [];
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = float16ToFloat32(bits);
      const ok = Number.isNaN(value) ? Number.isNaN(float16ToFloat32(float32ToFloat16(value))) : float32ToFloat16(value) === bits;
      if (!ok) mismatches.push(bits);
    }
    expect(mismatches).toEqual([]);
  });

  it('picks the nearest representable value, ties to even, on random inputs', () => {
    const rng = mulberry32(1);
    for (let i = 0; i < 20_000; i++) {
      const x = Math.fround((rng() * 2 - 1) * 2 ** (rng() * 40 - 26));
      const bits = float32ToFloat16(x);
      const err = Math.abs(float16ToFloat32(bits) - x);
      for (const neighbour of [bits - 1, bits + 1]) {
        if ((neighbour & 0x7fff) >= 0x7c00 || neighbour < 0 || (neighbour & 0x8000) !== (bits & 0x8000)) continue;
        const other = Math.abs(float16ToFloat32(neighbour) - x);
        expect(err).toBeLessThanOrEqual(other);
        if (err === other) expect(bits & 1).toBe(0);
      }
    }
  });

  it('keeps relative error ≤ 2^-11 in the normal range, over typed arrays', () => {
    const rng = mulberry32(2);
    const x = new Float32Array(10_000);
    for (let i = 0; i < x.length; i++) x[i] = (rng() < 0.5 ? -1 : 1) * 2 ** (rng() * 29 - 14);
    const back = decodeFloat16(encodeFloat16(x));
    for (let i = 0; i < x.length; i++) expect(Math.abs(back[i] - x[i]) / Math.abs(x[i])).toBeLessThanOrEqual(2 ** -11);
  });
});

describe('symmetric per-tensor int8', () => {
  it('uses scale = max|x|/127 as float32, zero point 0, codes in [−127, 127], error ≤ scale/2', () => {
    const x = randomArray(5000, mulberry32(3), 3);
    x[17] = -3.5; // the extreme is negative: its code must be −127, never −128
    const { q, scale, zeroPoint } = quantizeSymmetric(x);
    expect(zeroPoint).toBe(0);
    expect(scale).toBe(Math.fround(scale));
    expect(scale * 127).toBeGreaterThanOrEqual(3.5);
    expect(Math.abs(scale - 3.5 / 127)).toBeLessThanOrEqual((3.5 / 127) * 2 ** -23); // float32 rounding only
    expect(q[17]).toBe(-127);
    expect(Math.min(...q)).toBeGreaterThanOrEqual(-127);
    const back = dequantize(q, scale);
    for (let i = 0; i < x.length; i++) expect(Math.abs(back[i] - x[i])).toBeLessThanOrEqual(scale / 2 + 1e-7);
  });

  it('rounds half away from zero (TfLiteRound)', () => {
    const x = new Float32Array([127, 2.5, -2.5, 0.5, -0.5]); // scale exactly 1
    const { q, scale } = quantizeSymmetric(x);
    expect(scale).toBe(1);
    expect([...q]).toEqual([127, 3, -3, 1, -1]);
  });

  it('stochastic rounding stays within one step and is unbiased where round-to-nearest is not', () => {
    // Values sit 0.3 of a step above grid points: round-to-nearest always loses the 0.3, stochastic keeps it on average.
    const n = 64;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = ((i % 100) - 50 + 0.3) * 0.01;
    x[0] = 1.27; // pins scale at 0.01
    const rng = mulberry32(4);
    const draws = 4000;
    const sum = new Float64Array(n);
    let scale = 0;
    let worstError = 0;
    for (let d = 0; d < draws; d++) {
      const r = quantizeSymmetric(x, { stochastic: true, rng });
      scale = r.scale;
      for (let i = 0; i < n; i++) {
        const v = r.scale * r.q[i];
        worstError = Math.max(worstError, Math.abs(v - x[i]));
        sum[i] += v;
      }
    }
    expect(worstError).toBeLessThan(scale);
    const nearest = dequantize(quantizeSymmetric(x).q, quantizeSymmetric(x).scale);
    let worstStochasticBias = 0;
    let meanNearestBias = 0;
    for (let i = 1; i < n; i++) {
      worstStochasticBias = Math.max(worstStochasticBias, Math.abs(sum[i] / draws - x[i]));
      meanNearestBias += (x[i] - nearest[i]) / (n - 1);
    }
    // Per-element sd of the mean ≤ scale / (2√draws) ≈ 0.008 scale; allow 5 sd.
    expect(worstStochasticBias).toBeLessThan(0.04 * scale);
    expect(meanNearestBias).toBeGreaterThan(0.25 * scale);
  });

  it('is reproducible with an injected generator', () => {
    const x = randomArray(1000, mulberry32(5));
    const a = quantizeSymmetric(x, { stochastic: true, rng: mulberry32(9) });
    const b = quantizeSymmetric(x, { stochastic: true, rng: mulberry32(9) });
    expect(a.q).toEqual(b.q);
  });

  it('encodes an all-zero tensor with scale 1 and zero codes', () => {
    const { q, scale } = quantizeSymmetric(new Float32Array(8));
    expect(scale).toBe(1);
    expect([...q]).toEqual(new Array(8).fill(0));
  });

  it('handles subnormal and huge magnitudes without a zero or infinite scale', () => {
    for (const m of [1e-45, 1e-40, 3e38]) {
      const x = new Float32Array([m, -m / 2, 0]);
      const { q, scale } = quantizeSymmetric(x);
      expect(scale).toBeGreaterThan(0);
      expect(Number.isFinite(scale)).toBe(true);
      expect(Math.abs(q[0])).toBeLessThanOrEqual(127);
      expect(Math.abs(scale * q[0] - x[0])).toBeLessThanOrEqual(scale / 2 + Math.abs(x[0]) * 1e-7);
    }
  });

  it('rejects NaN and infinities with PROTO_ERR_NON_FINITE', () => {
    expectCode(() => quantizeSymmetric(new Float32Array([1, Number.NaN])), 'PROTO_ERR_NON_FINITE');
    expectCode(() => quantizeSymmetric(new Float32Array([Number.NEGATIVE_INFINITY])), 'PROTO_ERR_NON_FINITE');
    expectCode(() => quantizeSymmetric(new Float32Array([1, Number.POSITIVE_INFINITY]), { stochastic: true }), 'PROTO_ERR_NON_FINITE');
  });
});

describe('symmetric per-axis int8', () => {
  /** Brute force: channel of flat index i along `axis` of `shape`. */
  function channelOf(i: number, shape: number[], axis: number): number {
    let inner = 1;
    for (let d = axis + 1; d < shape.length; d++) inner *= shape[d];
    return Math.floor(i / inner) % shape[axis];
  }

  it('gives each output channel of a conv kernel [kh,kw,ci,co] its own scale', () => {
    const shape = [3, 3, 4, 5];
    const rng = mulberry32(6);
    const x = new Float32Array(3 * 3 * 4 * 5);
    const magnitude = [1e-3, 0.1, 1, 10, 0];
    for (let i = 0; i < x.length; i++) x[i] = (rng() * 2 - 1) * magnitude[i % 5];
    const { q, scales, axis } = quantizePerAxis(x, shape);
    expect(axis).toBe(3);
    const maxPerChannel = new Float64Array(5);
    for (let i = 0; i < x.length; i++) maxPerChannel[i % 5] = Math.max(maxPerChannel[i % 5], Math.abs(x[i]));
    for (let c = 0; c < 4; c++) {
      expect(Math.abs(scales[c] - maxPerChannel[c] / 127)).toBeLessThanOrEqual((maxPerChannel[c] / 127) * 2 ** -23);
    }
    expect(scales[4]).toBe(1); // all-zero channel
    const back = dequantizePerAxis(q, scales, shape);
    for (let i = 0; i < x.length; i++) expect(Math.abs(back[i] - x[i])).toBeLessThanOrEqual(scales[i % 5] / 2 + 1e-9);
    // Per-tensor quantization flattens the small channel to (almost) nothing; per-axis keeps it.
    const perTensor = quantizeSymmetric(x);
    const tensorBack = dequantize(perTensor.q, perTensor.scale);
    let axisErr = 0;
    let tensorErr = 0;
    for (let i = 0; i < x.length; i += 5) {
      axisErr += Math.abs(back[i] - x[i]);
      tensorErr += Math.abs(tensorBack[i] - x[i]);
    }
    expect(axisErr * 100).toBeLessThan(tensorErr);
  });

  it('supports any axis, matching a brute-force channel assignment', () => {
    const shape = [4, 3, 2];
    const x = randomArray(24, mulberry32(7));
    for (const axis of [0, 1, 2]) {
      const { q, scales } = quantizePerAxis(x, shape, axis);
      expect(scales.length).toBe(shape[axis]);
      const back = dequantizePerAxis(q, scales, shape, axis);
      for (let i = 0; i < x.length; i++) {
        expect(Math.abs(back[i] - x[i])).toBeLessThanOrEqual(scales[channelOf(i, shape, axis)] / 2 + 1e-9);
      }
    }
  });

  it('rejects a bad axis, a shape that does not match, and scales of the wrong count', () => {
    expectCode(() => quantizePerAxis(new Float32Array(6), [2, 3], 2), 'PROTO_ERR_BAD_QUANT_PARAMS');
    expectCode(() => quantizePerAxis(new Float32Array(6), [], 0), 'PROTO_ERR_BAD_QUANT_PARAMS');
    expectCode(() => quantizePerAxis(new Float32Array(5), [2, 3]), 'PROTO_ERR_BAD_TENSOR');
    expectCode(() => quantizePerAxis(new Float32Array([0, Number.NaN]), [1, 2]), 'PROTO_ERR_NON_FINITE');
    expectCode(() => dequantizePerAxis(new Int8Array(6), new Float32Array(2), [2, 3]), 'PROTO_ERR_BAD_QUANT_PARAMS');
  });
});

describe('asymmetric per-tensor int8 (activations)', () => {
  it('derives scale and an integer zero point that represents 0 exactly', () => {
    const { scale, zeroPoint } = asymmetricParams(-1, 3);
    expect(Math.abs(scale - 4 / 255)).toBeLessThanOrEqual((4 / 255) * 2 ** -23);
    expect(zeroPoint).toBe(-64); // round(−128 + 1 / (4/255)) = round(−64.25)
    const zero = quantizeAsymmetric(new Float32Array([0]), -1, 3);
    expect(zero.q[0]).toBe(zeroPoint);
    expect(dequantize(zero.q, scale, zeroPoint)[0]).toBe(0);
    expect(asymmetricParams(2, 5).zeroPoint).toBe(-128); // range widened to [0, 5]
    expect(asymmetricParams(-5, -2).zeroPoint).toBe(127); // range widened to [−5, 0]
    expect(asymmetricParams(0, 0)).toEqual({ scale: 1, zeroPoint: 0 });
  });

  it('round-trips in range within scale/2 and saturates outside', () => {
    const x = randomArray(2000, mulberry32(8), 1);
    for (let i = 0; i < x.length; i++) x[i] = x[i] * 2 + 1; // [−1, 3]
    const { q, scale, zeroPoint } = quantizeAsymmetric(x, -1, 3);
    const back = dequantize(q, scale, zeroPoint);
    for (let i = 0; i < x.length; i++) expect(Math.abs(back[i] - x[i])).toBeLessThanOrEqual(scale / 2 + 1e-6);
    const sat = quantizeAsymmetric(new Float32Array([-100, 100]), -1, 3);
    expect([...sat.q]).toEqual([-128, 127]);
  });

  it('rejects an inverted or non-finite range and non-finite input', () => {
    expectCode(() => asymmetricParams(1, -1), 'PROTO_ERR_BAD_QUANT_PARAMS');
    expectCode(() => asymmetricParams(Number.NaN, 1), 'PROTO_ERR_BAD_QUANT_PARAMS');
    expectCode(() => asymmetricParams(-Number.MAX_VALUE, Number.MAX_VALUE), 'PROTO_ERR_BAD_QUANT_PARAMS');
    expectCode(() => quantizeAsymmetric(new Float32Array([Number.NaN]), 0, 1), 'PROTO_ERR_NON_FINITE');
  });
});
