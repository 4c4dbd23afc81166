import { describe, expect, it } from 'vitest';
import { TensorEncoding, encodeWeights, float32ToFloat16, type TensorProps, type WeightUpdateProps } from '@fedfleet/proto';
import { isHubError } from '../../src/errors.js';
import { validateUpdate, type ExpectedUpdate } from '../../src/rounds/validate-update.js';
import { tinyDelta } from './round-helpers.js';

const EXPECTED: ExpectedUpdate = {
  baseVersionId: 'v1',
  shapes: [{ name: 'dense/kernel', shape: [4, 3] }, { name: 'dense/bias', shape: [3] }],
  maxUpdateNorm: 10,
};

function update(overrides: Partial<WeightUpdateProps> = {}, delta = tinyDelta(0.1, 0.01), encoding = TensorEncoding.TENSOR_ENCODING_FP32): WeightUpdateProps {
  return { roundId: 'r1', commandId: 'c1', baseVersionId: 'v1', exampleCount: 12, tensors: encodeWeights(delta, encoding), ...overrides };
}

function codeOf(u: WeightUpdateProps, expected: ExpectedUpdate = EXPECTED): string {
  try {
    validateUpdate(u, expected);
  } catch (error) {
    if (isHubError(error)) return error.code;
    throw error;
  }
  return 'valid';
}

/** fp32 bytes written by hand (the encoder refuses non-finite values). */
function rawFp32(name: string, shape: number[], values: number[]): TensorProps {
  return { name, shape, encoding: TensorEncoding.TENSOR_ENCODING_FP32, data: new Uint8Array(new Float32Array(values).buffer) };
}

describe('validateUpdate', () => {
  it('accepts a valid update: decoded delta, example count, L2 norm, the model\'s tensor names', () => {
    const delta = tinyDelta(0.1, 0.01);
    const renamed = delta.map((t, i) => ({ ...t, name: `dense_7/w${i}` }));
    const result = validateUpdate(update({}, renamed), EXPECTED);
    expect(result.exampleCount).toBe(12);
    expect(result.delta.map((t) => t.name)).toEqual(['dense/kernel', 'dense/bias']);
    expect(result.delta.map((t) => Array.from(t.data))).toEqual(delta.map((t) => Array.from(t.data)));
    const squares = delta.flatMap((t) => Array.from(t.data)).reduce((s, v) => s + v * v, 0);
    expect(result.norm).toBeCloseTo(Math.sqrt(squares), 6);
  });

  it('decodes fp16 and int8 updates', () => {
    const delta = tinyDelta(0.25, -0.05);
    const fp16 = validateUpdate(update({}, delta, TensorEncoding.TENSOR_ENCODING_FP16), EXPECTED);
    fp16.delta.forEach((t, i) => t.data.forEach((v, j) => expect(v).toBeCloseTo(delta[i]!.data[j]!, 3)));
    const int8 = validateUpdate(update({}, delta, TensorEncoding.TENSOR_ENCODING_INT8), EXPECTED);
    int8.delta.forEach((t, i) => t.data.forEach((v, j) => expect(Math.abs(v - delta[i]!.data[j]!)).toBeLessThan(0.01)));
  });

  it('HUB_ERR_UPDATE_BASE_MISMATCH: trained on another version, or on none', () => {
    expect(codeOf(update({ baseVersionId: 'v0' }))).toBe('HUB_ERR_UPDATE_BASE_MISMATCH');
    expect(codeOf(update({ baseVersionId: '' }))).toBe('HUB_ERR_UPDATE_BASE_MISMATCH');
  });

  it('HUB_ERR_UPDATE_EXAMPLE_COUNT: zero, missing, or beyond the bound', () => {
    expect(codeOf(update({ exampleCount: 0 }))).toBe('HUB_ERR_UPDATE_EXAMPLE_COUNT');
    expect(codeOf(update({ exampleCount: undefined }))).toBe('HUB_ERR_UPDATE_EXAMPLE_COUNT');
    expect(codeOf(update({ exampleCount: 2e9 }))).toBe('HUB_ERR_UPDATE_EXAMPLE_COUNT');
    expect(codeOf(update({ exampleCount: 101 }), { ...EXPECTED, maxExampleCount: 100 })).toBe('HUB_ERR_UPDATE_EXAMPLE_COUNT');
    expect(codeOf(update({ exampleCount: 100 }), { ...EXPECTED, maxExampleCount: 100 })).toBe('valid');
  });

  it('HUB_ERR_UPDATE_SHAPE: a tensor missing, one too many, or another shape', () => {
    const [kernel, bias] = encodeWeights(tinyDelta(0.1), TensorEncoding.TENSOR_ENCODING_FP32);
    expect(codeOf(update({ tensors: [kernel!] }))).toBe('HUB_ERR_UPDATE_SHAPE');
    expect(codeOf(update({ tensors: [kernel!, bias!, bias!] }))).toBe('HUB_ERR_UPDATE_SHAPE');
    expect(codeOf(update({ tensors: [{ ...kernel!, shape: [3, 4] }, bias!] }))).toBe('HUB_ERR_UPDATE_SHAPE');
    expect(codeOf(update({ tensors: [{ ...kernel!, shape: [12] }, bias!] }))).toBe('HUB_ERR_UPDATE_SHAPE');
    expect(codeOf(update({ tensors: [bias!, kernel!] }))).toBe('HUB_ERR_UPDATE_SHAPE');
  });

  it('HUB_ERR_UPDATE_NON_FINITE: NaN or ±Infinity in fp32, fp16 or int8', () => {
    const kernel = encodeWeights(tinyDelta(0.1), TensorEncoding.TENSOR_ENCODING_FP32)[0]!;
    expect(codeOf(update({ tensors: [kernel, rawFp32('b', [3], [0, Number.NaN, 0])] }))).toBe('HUB_ERR_UPDATE_NON_FINITE');
    expect(codeOf(update({ tensors: [kernel, rawFp32('b', [3], [0, 0, Number.POSITIVE_INFINITY])] }))).toBe('HUB_ERR_UPDATE_NON_FINITE');
    const inf16 = float32ToFloat16(Number.NEGATIVE_INFINITY);
    const fp16: TensorProps = { name: 'b', shape: [3], encoding: TensorEncoding.TENSOR_ENCODING_FP16, data: new Uint8Array([0, 0, inf16 & 0xff, inf16 >>> 8, 0, 0]) };
    expect(codeOf(update({ tensors: [kernel, fp16] }))).toBe('HUB_ERR_UPDATE_NON_FINITE');
    const int8: TensorProps = { name: 'b', shape: [3], encoding: TensorEncoding.TENSOR_ENCODING_INT8, data: new Uint8Array([127, 1, 2]), scale: 3e38, zeroPoint: 0 };
    expect(codeOf(update({ tensors: [kernel, int8] }))).toBe('HUB_ERR_UPDATE_NON_FINITE');
  });

  it('HUB_ERR_UPDATE_MALFORMED: bytes that do not fit the shape, an unknown encoding, a bad int8 scale', () => {
    const kernel = encodeWeights(tinyDelta(0.1), TensorEncoding.TENSOR_ENCODING_FP32)[0]!;
    expect(codeOf(update({ tensors: [kernel, { ...rawFp32('b', [3], [1, 2, 3]), data: new Uint8Array(8) }] }))).toBe('HUB_ERR_UPDATE_MALFORMED');
    expect(codeOf(update({ tensors: [kernel, { ...rawFp32('b', [3], [1, 2, 3]), encoding: 99 as TensorProps['encoding'] }] }))).toBe('HUB_ERR_UPDATE_MALFORMED');
    const int8: TensorProps = { name: 'b', shape: [3], encoding: TensorEncoding.TENSOR_ENCODING_INT8, data: new Uint8Array(3), scale: -1, zeroPoint: 0 };
    expect(codeOf(update({ tensors: [kernel, int8] }))).toBe('HUB_ERR_UPDATE_MALFORMED');
  });

  it('HUB_ERR_UPDATE_NORM: above maxUpdateNorm; 0 means no bound', () => {
    // 15 values of 1: ‖Δ‖ = √15 ≈ 3.873.
    const ones = tinyDelta(1);
    expect(codeOf(update({}, ones), { ...EXPECTED, maxUpdateNorm: 3.87 })).toBe('HUB_ERR_UPDATE_NORM');
    expect(codeOf(update({}, ones), { ...EXPECTED, maxUpdateNorm: 3.88 })).toBe('valid');
    expect(codeOf(update({}, tinyDelta(1e6)), { ...EXPECTED, maxUpdateNorm: 0 })).toBe('valid');
  });

  it('judges the base version first, then example count, shapes, values and norm', () => {
    const bad = update({ baseVersionId: 'v0', exampleCount: 0, tensors: [] });
    expect(codeOf(bad)).toBe('HUB_ERR_UPDATE_BASE_MISMATCH');
    expect(codeOf({ ...bad, baseVersionId: 'v1' })).toBe('HUB_ERR_UPDATE_EXAMPLE_COUNT');
    expect(codeOf({ ...bad, baseVersionId: 'v1', exampleCount: 3 })).toBe('HUB_ERR_UPDATE_SHAPE');
  });
});
