// Per-channel int8 on the wire (fleet.proto `Tensor.scales` / `quantized_axis`, TFLite per-axis weights) and the
// compatibility of messages from before those fields existed.
import { describe, expect, it } from 'vitest';
import {
  ModelBlob, Tensor, TensorEncoding, decodeModelBlob, decodeTensor, encodeModelBlob, encodeTensor,
  mulberry32, quantizePerAxis, type TensorProps, type WeightTensor,
} from '../src/index.js';
import { codeOf } from './helpers/proto-error-code.js';

const { TENSOR_ENCODING_FP32: FP32, TENSOR_ENCODING_INT8: INT8 } = TensorEncoding;

/** A kernel whose output channels (last dimension) have very different ranges, as trained kernels do. */
function kernel(shape: number[], seed: number): WeightTensor {
  const rng = mulberry32(seed);
  const channels = shape[shape.length - 1];
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = (rng() * 2 - 1) * 0.01 * 2 ** (i % channels);
  return { name: `k${shape.length}`, shape, data };
}

/** Worst |decoded − x| / (its channel's scale) over the tensor: ≤ 1/2 for round to nearest. */
function worstSteps(w: WeightTensor, t: TensorProps): number {
  const back = decodeTensor(t).data;
  const channels = w.shape[w.shape.length - 1];
  let worst = 0;
  for (let i = 0; i < back.length; i++) worst = Math.max(worst, Math.abs(back[i] - w.data[i]) / t.scales![i % channels]);
  return worst;
}

describe('per-channel int8 tensors', () => {
  it('round-trip through protobuf bytes within half a step per channel (dense [in, out] and conv [h, w, in, out])', () => {
    for (const w of [kernel([64, 8], 1), kernel([3, 3, 2, 6], 2)]) {
      const t = Tensor.decode(Tensor.encode(encodeTensor(w, INT8, { perChannel: true })).finish());
      expect(t.quantizedAxis).toBe(w.shape.length - 1);
      expect(t.scales).toHaveLength(w.shape[w.shape.length - 1]);
      expect(Number.isNaN(t.scale)).toBe(true);
      expect(t.zeroPoint).toBe(0);
      // Channel c's scale follows its own range (0.01 × 2^c), not the widest channel's.
      for (let c = 1; c < t.scales.length; c++) expect(t.scales[c] / t.scales[c - 1]).toBeCloseTo(2, 0);
      const worst = worstSteps(w, t);
      expect(worst).toBeLessThanOrEqual(0.5 + 1e-6);
      expect(worst).toBeGreaterThan(0.25); // a real quantization happened
    }
  });

  it('beats per-tensor scales on the narrow channels of kernels whose channels differ in range', () => {
    const w = kernel([64, 8], 3);
    const narrowChannelError = (t: TensorProps) => {
      const back = decodeTensor(t).data;
      let worst = 0;
      for (let i = 0; i < back.length; i += 8) worst = Math.max(worst, Math.abs(back[i] - w.data[i]));
      return worst;
    };
    expect(narrowChannelError(encodeTensor(w, INT8, { perChannel: true }))).toBeLessThan(narrowChannelError(encodeTensor(w, INT8)) / 10);
  });

  it('keeps rank 0 and 1 tensors (biases, scalars) and empty tensors per tensor', () => {
    for (const w of [
      { name: 'b', shape: [4], data: new Float32Array([1, -2, 3, 0]) },
      { name: 's', shape: [], data: new Float32Array([0.25]) },
      { name: 'e', shape: [3, 0], data: new Float32Array(0) },
    ]) {
      const t = encodeTensor(w, INT8, { perChannel: true });
      expect(t.scales ?? []).toHaveLength(0);
      expect(Number.isFinite(t.scale)).toBe(true);
    }
  });

  it('handles degenerate tensors: all zeros, a channel of zeros, constant, one huge outlier', () => {
    const zeros = encodeTensor({ name: 'z', shape: [4, 3], data: new Float32Array(12) }, INT8, { perChannel: true });
    expect(zeros.scales).toEqual([1, 1, 1]);
    expect([...decodeTensor(zeros).data]).toEqual(new Array(12).fill(0));

    const w = kernel([16, 4], 4);
    for (let r = 0; r < 16; r++) w.data[r * 4 + 1] = 0;
    const t = encodeTensor(w, INT8, { perChannel: true });
    expect(t.scales![1]).toBe(1);
    const back = decodeTensor(t).data;
    for (let r = 0; r < 16; r++) expect(back[r * 4 + 1]).toBe(0);
    expect(worstSteps(w, t)).toBeLessThanOrEqual(0.5 + 1e-6);

    const constant = { name: 'c', shape: [5, 2], data: new Float32Array(10).fill(-0.7) };
    const ct = encodeTensor(constant, INT8, { perChannel: true });
    expect(worstSteps(constant, ct)).toBeLessThanOrEqual(0.5 + 1e-6);
    for (const v of decodeTensor(ct).data) expect(v).toBeCloseTo(-0.7, 6);

    // One outlier costs only its own channel's resolution.
    const outlier = kernel([16, 4], 5);
    outlier.data[7 * 4 + 2] = 1e30;
    const ot = encodeTensor(outlier, INT8, { perChannel: true });
    expect(worstSteps(outlier, ot)).toBeLessThanOrEqual(0.5 + 1e-6);
    const ob = decodeTensor(ot).data;
    expect(ob[7 * 4 + 2] / 1e30).toBeCloseTo(1, 2);
    for (let r = 0; r < 16; r++) expect(Math.abs(ob[r * 4] - outlier.data[r * 4])).toBeLessThanOrEqual(0.01 / 254 + 1e-9);
  });

  it('stochastic per-channel rounding is unbiased per element', () => {
    const w = kernel([8, 4], 6);
    const rng = mulberry32(7);
    const sum = new Float64Array(w.data.length);
    const draws = 2000;
    let scales: Float32Array = new Float32Array(0);
    for (let d = 0; d < draws; d++) {
      const { q, scales: s } = quantizePerAxis(w.data, w.shape, 1, { stochastic: true, rng });
      scales = s;
      for (let i = 0; i < q.length; i++) sum[i] += q[i] * s[i % 4];
    }
    for (let i = 0; i < w.data.length; i++) expect(Math.abs(sum[i] / draws - w.data[i])).toBeLessThan(0.06 * scales[i % 4]);
  });
});

describe('messages from before per-channel scales', () => {
  // Tensor { name "b", shape [3], encoding INT8, data [−127, 0, 127], scale 0.5 } as the previous encoder wrote
  // it: fields 1–5 only. Then the same with zero_point −28 (field 6, a 10-byte negative varint).
  const OLD = [0x0a, 0x01, 0x62, 0x12, 0x01, 0x03, 0x18, 0x03, 0x22, 0x03, 0x81, 0x00, 0x7f, 0x2d, 0x00, 0x00, 0x00, 0x3f];
  const ZP = [0x30, 0xe4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];

  it('still decode identically', () => {
    const old = Tensor.decode(Uint8Array.from(OLD));
    expect(old.scales).toEqual([]);
    expect(old.quantizedAxis).toBe(0);
    expect([...decodeTensor(old).data]).toEqual([-63.5, 0, 63.5]);
    const asym = Tensor.decode(Uint8Array.from([...OLD, ...ZP]));
    expect([...decodeTensor(asym).data]).toEqual([-49.5, 14, 77.5]);
    // And today's per-tensor encoder still writes exactly those bytes.
    const now = encodeTensor({ name: 'b', shape: [3], data: new Float32Array([-63.5, 0, 63.5]) }, INT8, { perChannel: true });
    expect([...Tensor.encode(now).finish()]).toEqual(OLD);
  });

  it('a decoder that ignores the new fields refuses a per-channel tensor instead of decoding it with scale 0', () => {
    const t = encodeTensor(kernel([4, 3], 8), INT8, { perChannel: true });
    expect(codeOf(() => decodeTensor({ ...t, scales: [], quantizedAxis: 0 }))).toBe('PROTO_ERR_BAD_TENSOR');
  });
});

describe('malformed per-channel fields', () => {
  const good = encodeTensor(kernel([4, 3], 9), INT8, { perChannel: true });

  it('are refused with PROTO_ERR_BAD_QUANT_PARAMS', () => {
    const bad: Partial<TensorProps>[] = [
      { scales: [0.1, 0.1] }, // fewer scales than channels
      { scales: [0.1, 0.1, 0.1, 0.1] }, // more
      { scales: [0.1, Number.NaN, 0.1] },
      { scales: [0.1, Number.POSITIVE_INFINITY, 0.1] },
      { scales: [0.1, 0, 0.1] },
      { scales: [0.1, -0.1, 0.1] },
      { quantizedAxis: 2 }, // rank 2: axes 0 and 1
      { quantizedAxis: 0 }, // 4 rows, 3 scales
      { zeroPoint: 3 }, // per-axis zero points are 0 (TFLite spec)
      { scale: 0.5 }, // a second, conflicting scale
      { scales: [], quantizedAxis: 1, scale: 0.5 }, // an axis without scales
      { scales: 'abc' as unknown as number[] },
    ];
    for (const patch of bad) expect(codeOf(() => decodeTensor({ ...good, ...patch })), JSON.stringify(patch)).toBe('PROTO_ERR_BAD_QUANT_PARAMS');
    const scalar = encodeTensor({ name: 's', shape: [], data: new Float32Array([1]) }, INT8);
    expect(codeOf(() => decodeTensor({ ...scalar, scale: Number.NaN, scales: [1] }))).toBe('PROTO_ERR_BAD_QUANT_PARAMS');
    const fp32 = encodeTensor({ name: 'f', shape: [2, 1], data: new Float32Array([1, 2]) }, FP32);
    expect(codeOf(() => decodeTensor({ ...fp32, scales: [1], quantizedAxis: 1 }))).toBe('PROTO_ERR_BAD_QUANT_PARAMS');
    expect(codeOf(() => decodeTensor({ ...fp32, quantizedAxis: 1 }))).toBe('PROTO_ERR_BAD_QUANT_PARAMS');
  });

  it('a finite scale whose product with 127 overflows float32 is PROTO_ERR_NON_FINITE', () => {
    expect(codeOf(() => decodeTensor({ ...good, scales: [0.1, 3e38, 0.1], data: new Uint8Array(12).fill(0x7f) }))).toBe('PROTO_ERR_NON_FINITE');
  });

  it('accepts scale 0 (unset) beside the scales, as another encoder may write it', () => {
    expect(decodeTensor({ ...good, scale: 0 }).data).toEqual(decodeTensor(good).data);
  });
});

describe('int8 model artifacts', () => {
  const topologyJson = '{"class_name":"Sequential"}';
  const weights = [kernel([16, 4], 10), { name: 'bias', shape: [4], data: new Float32Array([0.1, -0.2, 0.3, 0]) }];

  it('quantize kernels per output channel and biases per tensor by default; per tensor on request', () => {
    const wire = ModelBlob.decode(encodeModelBlob({ topologyJson, weights }, INT8));
    expect(wire.weights[0].scales).toHaveLength(4);
    expect(wire.weights[0].quantizedAxis).toBe(1);
    expect(wire.weights[1].scales).toHaveLength(0);
    expect(worstSteps(weights[0], wire.weights[0])).toBeLessThanOrEqual(0.5 + 1e-6);
    const perTensor = ModelBlob.decode(encodeModelBlob({ topologyJson, weights }, INT8, { perChannel: false }));
    expect(perTensor.weights[0].scales).toHaveLength(0);
    expect(decodeModelBlob(encodeModelBlob({ topologyJson, weights }, INT8)).weights[0].shape).toEqual([16, 4]);
  });
});
