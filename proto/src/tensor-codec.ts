// WeightTensor <-> protobuf Tensor in the three wire encodings of fleet.proto `TensorEncoding`:
//   FP32  little-endian IEEE 754 binary32, 4 bytes/element
//   FP16  little-endian IEEE 754 binary16, round to nearest even, 2 bytes/element
//   INT8  real = scale × (q − zero_point), per tensor, or per output channel with `scales` along `quantized_axis`
//         (TFLite int8 spec), 1 byte/element
// Byte order is fixed little-endian whatever the host. Decoding never trusts the buffer's alignment: protobufjs
// hands out `bytes` fields as views into the whole message buffer, at any byteOffset.
import { ProtoError } from './errors.js';
import { decodeFloat32Le, encodeFloat32Le } from './float32-le.js';
import { float32ToFloat16, float16ToFloat32, isFloat16NonFinite } from './fp16.js';
import type { TensorEncodingValue } from './encoding.js';
import { TensorEncoding, type TensorProps } from './messages.js';
import { dequantizePerAxis, quantizePerAxis, quantizeSymmetric } from './quantize.js';
import type { ModelWeights, WeightTensor } from './weights.js';

/**
 * Default bound on the number of elements decoded from untrusted input: 2^24 (64 MiB as float32), well above
 * the 1.66 M parameters of the FedAvg paper's CNN.
 */
export const DEFAULT_MAX_TENSOR_ELEMENTS = 1 << 24;

export interface EncodeTensorOptions {
  /** INT8 only: stochastic rounding (unbiased; for uplink updates). Default false (round to nearest). */
  stochastic?: boolean;
  /** INT8 only: uniform source in [0, 1) for stochastic rounding. Default `Math.random`. */
  rng?: () => number;
  /**
   * INT8 only: one scale per output channel — the last dimension in TensorFlow.js layouts (dense `[in, out]`,
   * conv2d `[h, w, in, out]`) — for non-empty tensors of rank ≥ 2, as the TFLite spec quantizes conv and dense
   * weights; rank 0 and 1 (biases) stay per tensor. Default false.
   */
  perChannel?: boolean;
}

export interface DecodeTensorOptions {
  /**
   * Maximum element count accepted (per tensor for {@link decodeTensor}, in total for {@link decodeWeights}).
   * Default {@link DEFAULT_MAX_TENSOR_ELEMENTS}.
   */
  maxElements?: number;
}

/**
 * Bytes per element of an encoding.
 * @throws ProtoError PROTO_ERR_BAD_TENSOR for UNSPECIFIED or an encoding this version does not know.
 */
export function bytesPerElement(encoding: TensorEncodingValue): number {
  switch (encoding) {
    case TensorEncoding.TENSOR_ENCODING_FP32:
      return 4;
    case TensorEncoding.TENSOR_ENCODING_FP16:
      return 2;
    case TensorEncoding.TENSOR_ENCODING_INT8:
      return 1;
    default:
      throw new ProtoError('PROTO_ERR_BAD_TENSOR', `unknown encoding ${String(encoding)}`);
  }
}

/**
 * Size in bytes of the tensor data (the `data` fields) of `weights` in `encoding`, excluding names, shapes,
 * quantization parameters and protobuf framing. Use it to estimate wire size before encoding.
 */
export function encodedSize(weights: ModelWeights | WeightTensor, encoding: TensorEncodingValue): number {
  const bytes = bytesPerElement(encoding);
  if (!Array.isArray(weights)) return weights.data.length * bytes;
  let total = 0;
  for (const w of weights) total += w.data.length * bytes;
  return total;
}

/**
 * Validates a shape and returns its element count (0 when a dimension is 0; 1 for a scalar, shape []).
 * Even an empty tensor may not claim dimensions whose product exceeds 2^53 − 1, so shape arithmetic downstream
 * (`shapeSize`) stays exact instead of turning into Infinity × 0 = NaN.
 */
function checkedSize(shape: readonly number[], maxElements: number, name: string): number {
  let nonZeroProduct = 1;
  let empty = false;
  for (let d = 0; d < shape.length; d++) {
    const dim = shape[d];
    if (!Number.isInteger(dim) || dim < 0) throw new ProtoError('PROTO_ERR_BAD_TENSOR', `${name}: dimension ${d} is ${dim}`);
    if (dim === 0) empty = true;
    else if ((nonZeroProduct *= dim) > Number.MAX_SAFE_INTEGER) {
      throw new ProtoError('PROTO_ERR_BAD_TENSOR', `${name}: shape [${shape.join(',')}] is too large`);
    }
  }
  const size = empty ? 0 : nonZeroProduct;
  // Checked once the whole shape is read: a scalar holds one element and counts against the budget too, or
  // decodeWeights would accept any number of scalars past maxElements.
  if (size > maxElements) throw new ProtoError('PROTO_ERR_BAD_TENSOR', `${name}: more than ${maxElements} elements`);
  return size;
}

function checkFinite(data: Float32Array, name: string): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) throw new ProtoError('PROTO_ERR_NON_FINITE', `${name}: element ${i}`);
  }
}

function encodeFp16(src: Float32Array, name: string): Uint8Array {
  const out = new Uint8Array(src.length * 2);
  for (let i = 0; i < src.length; i++) {
    const bits = float32ToFloat16(src[i]);
    // Inputs are finite (checked); a non-finite result means the value overflowed binary16 (|x| ≥ 65520).
    if (isFloat16NonFinite(bits)) {
      throw new ProtoError('PROTO_ERR_OUT_OF_RANGE', `${name}: element ${i} = ${src[i]} overflows fp16`);
    }
    out[2 * i] = bits & 0xff;
    out[2 * i + 1] = bits >>> 8;
  }
  return out;
}

function decodeFp16(bytes: Uint8Array, out: Float32Array, name: string): void {
  for (let i = 0; i < out.length; i++) {
    const bits = bytes[2 * i] | (bytes[2 * i + 1] << 8);
    if (isFloat16NonFinite(bits)) throw new ProtoError('PROTO_ERR_NON_FINITE', `${name}: element ${i}`);
    out[i] = float16ToFloat32(bits);
  }
}

/**
 * Encodes one weight tensor for the wire. INT8 is per-tensor symmetric (TFLite weights spec, zero_point 0,
 * codes in [−127, 127]); the float32 scale goes in `scale`.
 * @throws ProtoError PROTO_ERR_BAD_TENSOR when `data` does not match `shape` or the encoding is unknown,
 * PROTO_ERR_NON_FINITE on NaN/±Infinity, PROTO_ERR_OUT_OF_RANGE when a value overflows fp16.
 */
export function encodeTensor(
  w: WeightTensor,
  encoding: TensorEncodingValue,
  options: EncodeTensorOptions = {},
): TensorProps {
  bytesPerElement(encoding);
  const size = checkedSize(w.shape, Number.MAX_SAFE_INTEGER, w.name);
  if (w.data.length !== size) {
    throw new ProtoError('PROTO_ERR_BAD_TENSOR', `${w.name}: ${w.data.length} values for shape [${w.shape.join(',')}]`);
  }
  const base = { name: w.name, shape: [...w.shape], encoding };
  if (encoding === TensorEncoding.TENSOR_ENCODING_INT8) {
    const rounding = { stochastic: options.stochastic, rng: options.rng };
    if (options.perChannel && w.shape.length >= 2 && size > 0) {
      const { q, scales, axis } = quantizePerAxis(w.data, w.shape, w.shape.length - 1, rounding);
      // scale NaN: a decoder that predates `scales` refuses the tensor instead of decoding it with scale 0.
      const data = new Uint8Array(q.buffer, q.byteOffset, q.length);
      return { ...base, data, scale: Number.NaN, zeroPoint: 0, scales: Array.from(scales), quantizedAxis: axis };
    }
    const { q, scale, zeroPoint } = quantizeSymmetric(w.data, rounding);
    return { ...base, data: new Uint8Array(q.buffer, q.byteOffset, q.length), scale, zeroPoint };
  }
  checkFinite(w.data, w.name);
  const data = encoding === TensorEncoding.TENSOR_ENCODING_FP32 ? encodeFloat32Le(w.data) : encodeFp16(w.data, w.name);
  return { ...base, data };
}

function badQuant(name: string, detail: string): ProtoError {
  return new ProtoError('PROTO_ERR_BAD_QUANT_PARAMS', `${name}: ${detail}`);
}

/** The per-channel fields of a wire tensor, empty and 0 when absent (every message before fields 7 and 8). */
function perChannelFields(t: TensorProps, name: string): { scales: readonly number[]; axis: number } {
  const scales = t.scales ?? [];
  if (!Array.isArray(scales)) throw badQuant(name, 'scales is not an array');
  const axis = t.quantizedAxis ?? 0;
  return { scales, axis };
}

/** INT8 per tensor: real = scale × (q − zeroPoint). `scale` 0 is what an unset field reads as; kept decodable. */
function dequantizePerTensor(q: Int8Array, t: TensorProps, name: string, out: Float32Array): void {
  const scale = t.scale ?? 0;
  const zeroPoint = t.zeroPoint ?? 0;
  if (!Number.isFinite(scale) || scale < 0) throw new ProtoError('PROTO_ERR_BAD_TENSOR', `${name}: scale ${scale}`);
  if (!Number.isInteger(zeroPoint) || zeroPoint < -128 || zeroPoint > 127) {
    throw new ProtoError('PROTO_ERR_BAD_TENSOR', `${name}: zero point ${zeroPoint}`);
  }
  for (let i = 0; i < out.length; i++) out[i] = scale * (q[i] - zeroPoint);
}

/**
 * INT8 per channel (TFLite per-axis weights): `axis` a dimension of `shape`, one finite scale > 0 per index along
 * it, zero point 0, and `scale` unset (0) or the NaN a per-channel sender writes — any other value would be a
 * second, conflicting definition of the scale.
 */
function dequantizePerChannel(
  q: Int8Array, t: TensorProps, shape: readonly number[], fields: { scales: readonly number[]; axis: number },
  name: string, out: Float32Array,
): void {
  const { scales, axis } = fields;
  if (!Number.isInteger(axis) || axis < 0 || axis >= shape.length) {
    throw badQuant(name, `quantized axis ${axis} for shape [${shape.join(',')}]`);
  }
  if (scales.length !== shape[axis]) throw badQuant(name, `${scales.length} scales for ${shape[axis]} channels`);
  for (let c = 0; c < scales.length; c++) {
    const s = scales[c];
    if (typeof s !== 'number' || !(s > 0 && s <= Number.MAX_VALUE)) throw badQuant(name, `scale ${c} is ${String(s)}`);
  }
  if ((t.zeroPoint ?? 0) !== 0) throw badQuant(name, `zero point ${t.zeroPoint} with per-channel scales`);
  const scale = t.scale ?? 0;
  if (scale !== 0 && !Number.isNaN(scale)) throw badQuant(name, `per-tensor scale ${scale} with per-channel scales`);
  dequantizePerAxis(q, Float32Array.from(scales), shape, axis, out);
}

/**
 * Decodes and validates one wire tensor into float32 values it owns (never a view of the message buffer):
 * known encoding, non-negative integer dimensions, element count ≤ `maxElements`, data length = elements ×
 * bytes per element, every decoded value finite. INT8 per tensor: scale finite and ≥ 0, zero point an integer in
 * [−128, 127]. INT8 per channel: see the `Tensor` message in fleet.proto. Other encodings carry no per-channel
 * fields.
 * @throws ProtoError PROTO_ERR_BAD_TENSOR for structural problems, PROTO_ERR_NON_FINITE for NaN/±Infinity values,
 * PROTO_ERR_BAD_QUANT_PARAMS for bad per-channel fields.
 */
export function decodeTensor(t: TensorProps, options: DecodeTensorOptions = {}): WeightTensor {
  const name = t.name ?? '';
  const encoding = t.encoding ?? TensorEncoding.TENSOR_ENCODING_UNSPECIFIED;
  const bpe = bytesPerElement(encoding);
  const shape = t.shape ?? [];
  if (!Array.isArray(shape)) throw new ProtoError('PROTO_ERR_BAD_TENSOR', `${name}: shape is not an array`);
  const size = checkedSize(shape, options.maxElements ?? DEFAULT_MAX_TENSOR_ELEMENTS, name);
  const data = t.data ?? new Uint8Array(0);
  if (!(data instanceof Uint8Array)) throw new ProtoError('PROTO_ERR_BAD_TENSOR', `${name}: data is not bytes`);
  if (data.byteLength !== size * bpe) {
    throw new ProtoError('PROTO_ERR_BAD_TENSOR', `${name}: ${data.byteLength} bytes, expected ${size} × ${bpe}`);
  }
  const perChannel = perChannelFields(t, name);
  if (encoding !== TensorEncoding.TENSOR_ENCODING_INT8 && (perChannel.scales.length > 0 || perChannel.axis !== 0)) {
    throw badQuant(name, 'per-channel scales on a tensor that is not INT8');
  }
  const out = new Float32Array(size);
  if (encoding === TensorEncoding.TENSOR_ENCODING_FP32) {
    decodeFloat32Le(data, out);
    checkFinite(out, name);
  } else if (encoding === TensorEncoding.TENSOR_ENCODING_FP16) {
    decodeFp16(data, out, name);
  } else {
    // Int8Array has no alignment requirement, so a view at any byteOffset is fine.
    const q = new Int8Array(data.buffer, data.byteOffset, size);
    if (perChannel.scales.length > 0) dequantizePerChannel(q, t, shape, perChannel, name, out);
    else if (perChannel.axis !== 0) throw badQuant(name, `quantized axis ${perChannel.axis} without scales`);
    else dequantizePerTensor(q, t, name, out);
    checkFinite(out, name); // a huge scale times 255 can overflow float32
  }
  return { name, shape: [...shape], data: out };
}

/** Encodes every tensor of `weights` (manifest order kept). See {@link encodeTensor}. */
export function encodeWeights(
  weights: ModelWeights,
  encoding: TensorEncodingValue,
  options: EncodeTensorOptions = {},
): TensorProps[] {
  return weights.map((w) => encodeTensor(w, encoding, options));
}

/**
 * Decodes a list of wire tensors (order kept). `maxElements` bounds the total over all tensors.
 * See {@link decodeTensor}.
 */
export function decodeWeights(tensors: readonly TensorProps[], options: DecodeTensorOptions = {}): ModelWeights {
  let budget = options.maxElements ?? DEFAULT_MAX_TENSOR_ELEMENTS;
  const weights: ModelWeights = [];
  for (const t of tensors) {
    const w = decodeTensor(t, { maxElements: budget });
    budget -= w.data.length;
    weights.push(w);
  }
  return weights;
}
