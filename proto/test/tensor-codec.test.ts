import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_TENSOR_ELEMENTS, ModelBlob, type TensorEncodingValue, ProtoError, Tensor, TensorEncoding, decodeEnvelope, decodeModelBlob, decodeTensor,
  decodeWeights, encodeEnvelope, encodeModelBlob, encodeTensor, encodeWeights, encodedSize, mulberry32, type ModelWeights,
  type TensorProps, type WeightTensor,
} from '../src/index.js';
import { codeOf } from './helpers/proto-error-code.js';

const { TENSOR_ENCODING_FP32: FP32, TENSOR_ENCODING_FP16: FP16, TENSOR_ENCODING_INT8: INT8 } = TensorEncoding;

function randomTensor(name: string, shape: number[], rng: () => number, amplitude = 1): WeightTensor {
  let n = 1;
  for (const d of shape) n *= d;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (rng() * 2 - 1) * amplitude;
  return { name, shape, data };
}

/** Copies `bytes` into a larger buffer at `offset`, like protobufjs hands out `bytes` fields. */
function atOffset(bytes: Uint8Array, offset: number): Uint8Array {
  const big = new Uint8Array(bytes.length + offset + 3).fill(0xaa);
  big.set(bytes, offset);
  return big.subarray(offset, offset + bytes.length);
}

describe('tensor codec round trips', () => {
  const rng = mulberry32(11);
  const kernel = randomTensor('dense_Dense1/kernel', [64, 32], rng, 0.2);

  it('fp32 is exact, little-endian, including −0, subnormals and extremes', () => {
    const w: WeightTensor = { name: 'x', shape: [2, 3], data: new Float32Array([1, -0, 1e-45, 3.4e38, -2.5, 0.1]) };
    const t = encodeTensor(w, FP32);
    expect([...t.data!.subarray(0, 4)]).toEqual([0x00, 0x00, 0x80, 0x3f]); // 1.0f LE
    const back = decodeTensor(t);
    expect(back.name).toBe('x');
    expect(back.shape).toEqual([2, 3]);
    expect(back.data).toEqual(w.data);
    expect(Object.is(back.data[1], -0)).toBe(true);
    expect(decodeTensor(encodeTensor(kernel, FP32)).data).toEqual(kernel.data);
  });

  it('fp16 keeps relative error ≤ 2^-11 in the normal range and writes little-endian', () => {
    const t = encodeTensor({ name: 'one', shape: [1], data: new Float32Array([1]) }, FP16);
    expect([...t.data!]).toEqual([0x00, 0x3c]);
    const back = decodeTensor(encodeTensor(kernel, FP16));
    for (let i = 0; i < kernel.data.length; i++) {
      const x = kernel.data[i];
      if (Math.abs(x) >= 2 ** -14) expect(Math.abs(back.data[i] - x) / Math.abs(x)).toBeLessThanOrEqual(2 ** -11);
      else expect(Math.abs(back.data[i] - x)).toBeLessThanOrEqual(2 ** -25);
    }
  });

  it('int8 stays within scale/2 deterministic and within scale stochastic', () => {
    const det = encodeTensor(kernel, INT8);
    expect(det.zeroPoint).toBe(0);
    const scale = det.scale!;
    const back = decodeTensor(det).data;
    let worst = 0;
    for (let i = 0; i < back.length; i++) worst = Math.max(worst, Math.abs(back[i] - kernel.data[i]));
    expect(worst).toBeLessThanOrEqual(scale / 2 + 1e-7);
    expect(worst).toBeGreaterThan(scale / 4); // a real quantization happened

    const sto = decodeTensor(encodeTensor(kernel, INT8, { stochastic: true, rng: mulberry32(3) })).data;
    let worstSto = 0;
    for (let i = 0; i < sto.length; i++) worstSto = Math.max(worstSto, Math.abs(sto[i] - kernel.data[i]));
    expect(worstSto).toBeLessThan(scale);
    expect(worstSto).toBeGreaterThan(scale / 2); // stochastic rounding does go to the far grid point sometimes
  });

  it('stochastic int8 updates average out: the mean of many decoded updates approaches the true update', () => {
    const update = randomTensor('delta', [256], mulberry32(5), 0.01);
    const rng = mulberry32(6);
    const sum = new Float64Array(256);
    const draws = 2000;
    let scale = 0;
    for (let d = 0; d < draws; d++) {
      const t = encodeTensor(update, INT8, { stochastic: true, rng });
      scale = t.scale!;
      const back = decodeTensor(t).data;
      for (let i = 0; i < 256; i++) sum[i] += back[i];
    }
    let worstBias = 0;
    for (let i = 0; i < 256; i++) worstBias = Math.max(worstBias, Math.abs(sum[i] / draws - update.data[i]));
    expect(worstBias).toBeLessThan(0.06 * scale); // ≈ 5 sd of the mean of `draws` draws
  });

  it('encodes whole models and reports data sizes: int8 ≈ 1/4, fp16 ≈ 1/2 of fp32 on the wire', () => {
    const weights: ModelWeights = [kernel, randomTensor('dense_Dense1/bias', [32], rng), randomTensor('k2', [32, 10], rng)];
    const params = 64 * 32 + 32 + 320;
    expect(encodedSize(weights, FP32)).toBe(params * 4);
    expect(encodedSize(weights, FP16)).toBe(params * 2);
    expect(encodedSize(weights, INT8)).toBe(params);
    expect(encodedSize(kernel, INT8)).toBe(64 * 32);
    const wire = (encoding: TensorEncodingValue) => ModelBlob.encode({ topologyJson: '{}', weights: encodeWeights(weights, encoding) }).finish().length;
    const ratioInt8 = wire(INT8) / wire(FP32);
    const ratioFp16 = wire(FP16) / wire(FP32);
    expect(ratioInt8).toBeGreaterThan(0.25);
    expect(ratioInt8).toBeLessThan(0.27);
    expect(ratioFp16).toBeGreaterThan(0.5);
    expect(ratioFp16).toBeLessThan(0.52);
    const back = decodeWeights(encodeWeights(weights, FP32));
    expect(back.map((w) => w.name)).toEqual(weights.map((w) => w.name));
    expect(back[2].data).toEqual(weights[2].data);
  });

  it('handles empty and scalar tensors', () => {
    for (const encoding of [FP32, FP16, INT8]) {
      const empty = decodeTensor(encodeTensor({ name: 'e', shape: [0, 5], data: new Float32Array(0) }, encoding));
      expect(empty.data.length).toBe(0);
      expect(empty.shape).toEqual([0, 5]);
      const scalar = decodeTensor(encodeTensor({ name: 's', shape: [], data: new Float32Array([0.5]) }, encoding));
      expect(scalar.data[0]).toBeCloseTo(0.5, 2);
    }
  });
});

describe('tensor codec with buffers at any byteOffset', () => {
  const w: WeightTensor = { name: 'w', shape: [3, 5], data: new Float32Array([...Array(15).keys()].map((i) => (i - 7) / 3)) };

  it('decodes data views at odd offsets for every encoding', () => {
    for (const encoding of [FP32, FP16, INT8]) {
      const t = encodeTensor(w, encoding);
      const reference = decodeTensor(t).data;
      for (const offset of [1, 2, 3, 5]) {
        const shifted = decodeTensor({ ...t, data: atOffset(t.data!, offset) });
        expect(shifted.data).toEqual(reference);
      }
    }
  });

  it('encodes from a Float32Array that is a view into a larger buffer', () => {
    const big = new Float32Array(100);
    big.set(w.data, 40);
    const view = big.subarray(40, 55);
    expect(decodeTensor(encodeTensor({ ...w, data: view }, FP32)).data).toEqual(w.data);
  });

  it('decodes tensors that came through a protobuf envelope, and owns its memory', () => {
    const tensors = encodeWeights([w, { ...w, name: 'w2' }], FP32);
    const bytes = encodeEnvelope({ deviceId: 'dev-1', weightUpdate: { roundId: 'r1', tensors } });
    const env = decodeEnvelope(atOffset(bytes, 7), { topicKind: 'update' });
    const wire = env.weightUpdate!.tensors!;
    expect(wire[1].data!.byteOffset % 4).not.toBe(0); // the case that breaks `new Float32Array(buffer, offset)`
    const decoded = decodeWeights(wire);
    expect(decoded[1].data).toEqual(w.data);
    wire[1].data!.fill(0);
    expect(decoded[1].data).toEqual(w.data);
    expect(decoded[1].data.buffer).not.toBe(wire[1].data!.buffer);
  });
});

describe('tensor codec rejects bad input', () => {
  const good = encodeTensor({ name: 'g', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }, FP32);

  it('data length that does not match shape × element size', () => {
    expect(codeOf(() => decodeTensor({ ...good, data: good.data!.subarray(0, 12) }))).toBe('PROTO_ERR_BAD_TENSOR');
    expect(codeOf(() => decodeTensor({ ...good, shape: [2, 3] }))).toBe('PROTO_ERR_BAD_TENSOR');
    expect(codeOf(() => decodeTensor({ ...good, encoding: FP16 }))).toBe('PROTO_ERR_BAD_TENSOR');
    expect(codeOf(() => decodeTensor({ ...good, data: null }))).toBe('PROTO_ERR_BAD_TENSOR');
    expect(codeOf(() => encodeTensor({ name: 'x', shape: [2, 2], data: new Float32Array(3) }, FP32))).toBe('PROTO_ERR_BAD_TENSOR');
  });

  it('unknown or unspecified encodings', () => {
    expect(codeOf(() => decodeTensor({ ...good, encoding: TensorEncoding.TENSOR_ENCODING_UNSPECIFIED }))).toBe('PROTO_ERR_BAD_TENSOR');
    expect(codeOf(() => decodeTensor({ ...good, encoding: 7 as TensorEncodingValue }))).toBe('PROTO_ERR_BAD_TENSOR');
    expect(codeOf(() => decodeTensor({ ...good, encoding: undefined }))).toBe('PROTO_ERR_BAD_TENSOR');
    expect(codeOf(() => encodeTensor({ name: 'x', shape: [1], data: new Float32Array(1) }, 9 as TensorEncodingValue))).toBe('PROTO_ERR_BAD_TENSOR');
    expect(() => encodedSize([], 0 as TensorEncodingValue)).toThrow(ProtoError);
  });

  it('negative, fractional and oversized dimensions, without allocating for them', () => {
    expect(codeOf(() => decodeTensor({ ...good, shape: [-2, -2] }))).toBe('PROTO_ERR_BAD_TENSOR');
    expect(codeOf(() => decodeTensor({ ...good, shape: [1.5, 2] }))).toBe('PROTO_ERR_BAD_TENSOR');
    expect(codeOf(() => encodeTensor({ name: 'x', shape: [-1], data: new Float32Array(0) }, FP32))).toBe('PROTO_ERR_BAD_TENSOR');
    expect(codeOf(() => decodeTensor({ ...good, shape: [0xffffffff, 0xffffffff, 0xffffffff] }))).toBe('PROTO_ERR_BAD_TENSOR');
    expect(codeOf(() => decodeTensor({ ...good, shape: [DEFAULT_MAX_TENSOR_ELEMENTS + 1], data: new Uint8Array(0) }))).toBe('PROTO_ERR_BAD_TENSOR');
    expect(codeOf(() => decodeTensor(good, { maxElements: 3 }))).toBe('PROTO_ERR_BAD_TENSOR');
    expect(decodeTensor(good, { maxElements: 4 }).data.length).toBe(4);
    // The bound is a total over a whole list of tensors.
    expect(codeOf(() => decodeWeights([good, good], { maxElements: 7 }))).toBe('PROTO_ERR_BAD_TENSOR');
    expect(decodeWeights([good, good], { maxElements: 8 })).toHaveLength(2);
  });

  it('NaN and infinities in any encoding, on both sides', () => {
    const nanBytes = new Uint8Array(new Float32Array([1, Number.NaN, 3, 4]).buffer);
    expect(codeOf(() => decodeTensor({ ...good, data: nanBytes }))).toBe('PROTO_ERR_NON_FINITE');
    const infBytes = new Uint8Array(new Float32Array([1, 2, Number.POSITIVE_INFINITY, 4]).buffer);
    expect(codeOf(() => decodeTensor({ ...good, data: infBytes }))).toBe('PROTO_ERR_NON_FINITE');
    const fp16Inf: TensorProps = { name: 'h', shape: [2], encoding: FP16, data: new Uint8Array([0x00, 0x3c, 0x00, 0x7c]) };
    expect(codeOf(() => decodeTensor(fp16Inf))).toBe('PROTO_ERR_NON_FINITE');
    const fp16NaN: TensorProps = { name: 'h', shape: [1], encoding: FP16, data: new Uint8Array([0x01, 0xfe]) };
    expect(codeOf(() => decodeTensor(fp16NaN))).toBe('PROTO_ERR_NON_FINITE');
    for (const encoding of [FP32, FP16, INT8]) {
      expect(codeOf(() => encodeTensor({ name: 'n', shape: [2], data: new Float32Array([0, Number.NaN]) }, encoding))).toBe('PROTO_ERR_NON_FINITE');
    }
  });

  it('values beyond fp16 range', () => {
    expect(codeOf(() => encodeTensor({ name: 'big', shape: [1], data: new Float32Array([70000]) }, FP16))).toBe('PROTO_ERR_OUT_OF_RANGE');
    expect(decodeTensor(encodeTensor({ name: 'max', shape: [1], data: new Float32Array([65504]) }, FP16)).data[0]).toBe(65504);
  });

  it('bad int8 quantization parameters', () => {
    const q = encodeTensor({ name: 'q', shape: [3], data: new Float32Array([-1, 0, 1]) }, INT8);
    for (const scale of [Number.NaN, Number.POSITIVE_INFINITY, -0.5]) {
      expect(codeOf(() => decodeTensor({ ...q, scale }))).toBe('PROTO_ERR_BAD_TENSOR');
    }
    for (const zeroPoint of [128, -129, 0.5]) {
      expect(codeOf(() => decodeTensor({ ...q, zeroPoint }))).toBe('PROTO_ERR_BAD_TENSOR');
    }
    // A finite float32 scale whose product with 255 overflows float32.
    expect(codeOf(() => decodeTensor({ ...q, scale: 3e38, zeroPoint: 127 }))).toBe('PROTO_ERR_NON_FINITE');
    // An asymmetric tensor (zero point ≠ 0) decodes as real = scale × (q − zeroPoint).
    const asym = decodeTensor({ name: 'a', shape: [2], encoding: INT8, data: new Uint8Array([0x80, 0x7f]), scale: 0.5, zeroPoint: -28 });
    expect([...asym.data]).toEqual([-50, 77.5]);
  });
});

describe('model blob', () => {
  const rng = mulberry32(21);
  const topologyJson = JSON.stringify({ class_name: 'Sequential', config: { name: 'tiny', layers: [] } });
  const weights: ModelWeights = [randomTensor('k', [8, 4], rng), randomTensor('b', [4], rng)];

  it('round-trips topology and weights (fp32 exact, int8 within half a step of its channel or tensor)', () => {
    const back = decodeModelBlob(encodeModelBlob({ topologyJson, weights }, FP32));
    expect(back.topologyJson).toBe(topologyJson);
    expect(back.weights.map((w) => [w.name, w.shape])).toEqual([['k', [8, 4]], ['b', [4]]]);
    expect(back.weights[0].data).toEqual(weights[0].data);

    const bytes = encodeModelBlob({ topologyJson, weights }, INT8);
    const wire = ModelBlob.decode(bytes);
    const q = decodeModelBlob(atOffset(bytes, 3));
    for (let t = 0; t < 2; t++) {
      for (let i = 0; i < weights[t].data.length; i++) {
        const { scales, shape } = wire.weights[t];
        // Kernels (rank ≥ 2) travel per output channel, the last dimension; the bias per tensor.
        const step = scales!.length > 0 ? scales![i % shape![shape!.length - 1]] : wire.weights[t].scale!;
        expect(Math.abs(q.weights[t].data[i] - weights[t].data[i])).toBeLessThanOrEqual(step / 2 + 1e-7);
      }
    }
  });

  it('turns malformed bytes and bad content into ProtoError', () => {
    expect(codeOf(() => decodeModelBlob(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff])))).toBe('PROTO_ERR_MALFORMED');
    expect(codeOf(() => decodeModelBlob(new Uint8Array(0)))).toBe('PROTO_ERR_MALFORMED'); // no topology
    const notJson = ModelBlob.encode({ topologyJson: '{oops', weights: [] }).finish();
    expect(codeOf(() => decodeModelBlob(notJson))).toBe('PROTO_ERR_MALFORMED');
    const notObject = ModelBlob.encode({ topologyJson: '[1,2]', weights: [] }).finish();
    expect(codeOf(() => decodeModelBlob(notObject))).toBe('PROTO_ERR_MALFORMED');
    const badTensor = ModelBlob.encode({ topologyJson, weights: [{ name: 'k', shape: [2], encoding: FP32, data: new Uint8Array(7) }] }).finish();
    expect(codeOf(() => decodeModelBlob(badTensor))).toBe('PROTO_ERR_BAD_TENSOR');
    expect(codeOf(() => encodeModelBlob({ topologyJson: '', weights }, FP32))).toBe('PROTO_ERR_MALFORMED');
    expect(codeOf(() => decodeModelBlob(encodeModelBlob({ topologyJson, weights }, FP32), { maxElements: 35 }))).toBe('PROTO_ERR_BAD_TENSOR');
  });

  it('uses the generated Tensor message unchanged (field compatibility)', () => {
    const t = encodeTensor(weights[1], INT8);
    const decoded = Tensor.decode(Tensor.encode(t).finish());
    expect(decodeTensor(decoded).data).toEqual(decodeTensor(t).data);
  });
});
