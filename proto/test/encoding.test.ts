import { describe, expect, it } from 'vitest';
import {
  ACCEPTED_ENCODING_NAMES, DEFAULT_ENCODING, ENCODINGS, ProtoError, TensorEncoding, encodingOfWire, isEncoding, parseEncoding,
  wireEncodingOf, type TensorEncodingValue,
} from '../src/index.js';

describe('the encoding vocabulary', () => {
  it('maps each name to its wire enum value and back', () => {
    expect(ENCODINGS.map(wireEncodingOf)).toEqual([
      TensorEncoding.TENSOR_ENCODING_FP32, TensorEncoding.TENSOR_ENCODING_FP16, TensorEncoding.TENSOR_ENCODING_INT8,
    ]);
    for (const name of ENCODINGS) expect(encodingOfWire(wireEncodingOf(name))).toBe(name);
    expect(DEFAULT_ENCODING).toBe('fp32');
    for (const wire of [TensorEncoding.TENSOR_ENCODING_UNSPECIFIED, 9 as TensorEncodingValue, undefined, null]) {
      expect(() => encodingOfWire(wire)).toThrow(expect.objectContaining({ code: 'PROTO_ERR_BAD_TENSOR' }));
    }
  });

  it('reads the deprecated `none` as fp32 and nothing else that is not a name', () => {
    expect(ACCEPTED_ENCODING_NAMES).toEqual(['fp32', 'fp16', 'int8', 'none']);
    expect(parseEncoding('none')).toBe('fp32');
    for (const name of ENCODINGS) expect(parseEncoding(name)).toBe(name);
    expect(isEncoding('none')).toBe(false);
    for (const bad of ['zip', 'FP32', '', 'toString', '__proto__', 'constructor', 8, null, undefined]) {
      expect(() => parseEncoding(bad)).toThrow(ProtoError);
      expect(isEncoding(bad)).toBe(false);
    }
  });
});
