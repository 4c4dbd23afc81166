// Untrusted .tflite bytes (an upload, a device's download) must give PROTO_ERR_BAD_TFLITE and nothing else: no
// RangeError from the flatbuffers runtime, no hang, no huge allocation, no silently wrong graph.
import { Builder } from 'flatbuffers';
import { describe, expect, it } from 'vitest';
import { decodeTfliteInt8, describeTflite, encodeTfliteInt8, mulberry32 } from '../../src/index.js';
import { int32LeBytes } from '../../src/tflite/emit-ops.js';
import { TfliteWriter, type TensorSpec } from '../../src/tflite/tflite-writer.js';
import { BuiltinOperator, Model, SubGraph, Tensor } from '../../generated/tflite/tflite-schema.js';
import { codeOf } from '../helpers/proto-error-code.js';
import { smallModel } from './tflite-models.js';

const valid = encodeTfliteInt8(smallModel().graph);

/** The reason a decode gives; fails the test for anything but a ProtoError PROTO_ERR_BAD_TFLITE. */
function refusal(bytes: Uint8Array, decode: (bytes: Uint8Array) => unknown = decodeTfliteInt8): string {
  try {
    decode(bytes);
  } catch (error) {
    expect(codeOf(() => { throw error; })).toBe('PROTO_ERR_BAD_TFLITE');
    return (error as Error).message;
  }
  return 'accepted';
}

const act = (name: string, shape: number[]): TensorSpec => ({ name, shape, type: 'INT8', quant: { scales: [0.05], zeroPoints: [-3], quantizedDimension: 0 } });

/** A one-layer int8 dense model [1, 12] → [1, 4], with parts replaceable. */
function denseFile(patch: { input?: TensorSpec; output?: TensorSpec; code?: BuiltinOperator; swapOrder?: boolean } = {}): Uint8Array {
  const w = new TfliteWriter();
  const input = w.addTensor(patch.input ?? act('input', [1, 12]));
  const output = w.addTensor(patch.output ?? act('output', [1, 4]));
  const weights = w.addTensor({
    name: 'w', shape: [4, 12], type: 'INT8', data: new Uint8Array(48).fill(3), quant: { scales: [0.01, 0.02, 0.03, 0.04], zeroPoints: [0, 0, 0, 0], quantizedDimension: 0 },
  });
  const bias = w.addTensor({
    name: 'b', shape: [4], type: 'INT32', data: int32LeBytes([1, 2, 3, 4]),
    quant: { scales: [0.01, 0.02, 0.03, 0.04].map((s) => Math.fround(0.05 * s)), zeroPoints: [0, 0, 0, 0], quantizedDimension: 0 },
  });
  const hidden = patch.swapOrder ? w.addTensor(act('hidden', [1, 4])) : -1;
  if (patch.swapOrder) {
    // Reads `hidden` before the operator that writes it.
    w.addOperator({ code: BuiltinOperator.FULLY_CONNECTED, version: 4, inputs: [hidden, weights, bias], outputs: [output], options: { type: 'fullyConnected', activation: 0 } });
  }
  w.addOperator({
    code: patch.code ?? BuiltinOperator.FULLY_CONNECTED, version: 4, inputs: [input, weights, bias], outputs: [patch.swapOrder ? hidden : output],
    options: { type: 'fullyConnected', activation: 0 },
  });
  return w.finish({ inputs: [input], outputs: [output], description: 'test' });
}

describe('.tflite decoding refuses malformed files with PROTO_ERR_BAD_TFLITE only', () => {
  it('the reference files decode', () => {
    expect(refusal(valid)).toBe('accepted');
    expect(refusal(denseFile())).toBe('accepted');
  });

  it('truncated at every length', () => {
    for (let length = 0; length < valid.length; length++) {
      expect(refusal(valid.slice(0, length)), `length ${length}`).not.toBe('accepted');
      expect(refusal(valid.slice(0, length), describeTflite), `length ${length}`).not.toBe('accepted');
    }
  });

  it('every byte flipped, one at a time: refused or decoded, never another error', () => {
    let refused = 0;
    for (let i = 0; i < valid.length; i++) {
      for (const mask of [0xff, 0x01, 0x80]) {
        const bytes = valid.slice();
        bytes[i] ^= mask;
        if (refusal(bytes) !== 'accepted') refused += 1;
        refusal(bytes, describeTflite);
      }
    }
    expect(refused).toBeGreaterThan(valid.length); // most flips land in structure, not in weight values
  });

  it('random bytes, with and without the TFL3 identifier', () => {
    const rng = mulberry32(99);
    for (let n = 0; n < 400; n++) {
      const bytes = Uint8Array.from({ length: Math.floor(rng() * 600) }, () => Math.floor(rng() * 256));
      if (n % 2 === 0 && bytes.length >= 8) {
        bytes.set([0x54, 0x46, 0x4c, 0x33], 4); // "TFL3"
        new DataView(bytes.buffer).setUint32(0, Math.floor(rng() * bytes.length), true);
      }
      expect(refusal(bytes)).not.toBe('accepted');
      expect(refusal(bytes, describeTflite)).not.toBe('accepted');
    }
  });

  it('a wrong file identifier or a non-byte-array input', () => {
    const bytes = valid.slice();
    bytes.set([0x54, 0x46, 0x4c, 0x32], 4); // "TFL2"
    expect(refusal(bytes)).toMatch(/identifier is "TFL2"/);
    expect(refusal('TFL3' as unknown as Uint8Array)).toMatch(/not a byte array/);
  });

  it('a huge declared vector length (weights data, 2^31 − 1 and 2^32 − 1 bytes)', () => {
    const weights = smallModel().graph.ops.find((op) => op.kind === 'conv2d')!;
    const kernel = new Uint8Array(weights.weights.buffer, weights.weights.byteOffset, weights.weights.length);
    const at = Buffer.from(valid).indexOf(Buffer.from(kernel));
    expect(new DataView(valid.buffer).getUint32(at - 4, true)).toBe(kernel.length);
    for (const length of [0x7fffffff, 0xffffffff, valid.length]) {
      const bytes = valid.slice();
      new DataView(bytes.buffer).setUint32(at - 4, length, true);
      expect(refusal(bytes)).toMatch(/overruns the file/);
    }
  });

  it('shared tables (a DAG) and oversized files are bounded before any work', () => {
    const b = new Builder(1024);
    const shape = Tensor.createShapeVector(b, [1]);
    Tensor.startTensor(b);
    Tensor.addShape(b, shape);
    const tensor = Tensor.endTensor(b);
    const tensors = SubGraph.createTensorsVector(b, new Array<number>(150_000).fill(tensor));
    const subgraph = SubGraph.createSubGraph(b, tensors, 0, 0, 0, 0);
    b.finish(Model.createModel(b, 3, 0, Model.createSubgraphsVector(b, [subgraph]), 0, 0), 'TFL3');
    expect(refusal(b.asUint8Array())).toMatch(/more than 100000 tables/);
    expect(refusal(new Uint8Array(64 * 1024 * 1024 + 1))).toMatch(/over the limit/);
  });

  it('tensors and work over the bounds', () => {
    expect(refusal(denseFile({ input: act('input', [1, 4096, 4096, 2]) }))).toMatch(/elements over the limit/);
    expect(refusal(denseFile({ input: act('input', [1, 2, 3, 4, 5]) }))).toMatch(/rank 5 over the limit/);
    const manyScales = { quant: { scales: new Array<number>(70_000).fill(1), zeroPoints: [], quantizedDimension: 0 } };
    expect(refusal(denseFile({ input: { ...act('input', [1, 12]), ...manyScales } }), describeTflite)).toMatch(/quantization vectors over the limit/);
    const wide = new TfliteWriter();
    const x = wide.addTensor(act('x', [1, 4]));
    wide.addOperator({ code: BuiltinOperator.RESHAPE, version: 1, inputs: new Array<number>(100).fill(x), outputs: [x], options: { type: 'reshape', newShape: [1, 4] } });
    expect(refusal(wide.finish({ inputs: [x], outputs: [x], description: '' }), describeTflite)).toMatch(/100 tensors over the limit 16/);
    // A 2.4 KB file: a 9×9 'same' conv with 16 filters over a 1024×1024 image is 1.4 G multiply-accumulates.
    const w = new TfliteWriter();
    const input = w.addTensor(act('input', [1, 1024, 1024, 1]));
    const output = w.addTensor(act('output', [1, 1024, 1024, 16]));
    const scales = new Array<number>(16).fill(0.01);
    const zeros = new Array<number>(16).fill(0);
    const filter = w.addTensor({ name: 'f', shape: [16, 9, 9, 1], type: 'INT8', data: new Uint8Array(16 * 81), quant: { scales, zeroPoints: zeros, quantizedDimension: 0 } });
    const bias = w.addTensor({ name: 'b', shape: [16], type: 'INT32', data: int32LeBytes(zeros), quant: { scales: scales.map((x) => x * 0.05), zeroPoints: zeros, quantizedDimension: 0 } });
    w.addOperator({ code: BuiltinOperator.CONV_2D, version: 3, inputs: [input, filter, bias], outputs: [output], options: { type: 'conv2d', padding: 0, strideW: 1, strideH: 1, activation: 0 } });
    const bytes = w.finish({ inputs: [input], outputs: [output], description: '' });
    expect(bytes.length).toBeLessThan(2500);
    expect(refusal(bytes)).toMatch(/more than 1073741824 multiply-accumulates/);
  });

  it('what the int8 kernels cannot run', () => {
    expect(refusal(denseFile({ code: BuiltinOperator.ADD }))).toMatch(/ADD.*not supported/);
    expect(refusal(denseFile({ input: { name: 'input', shape: [1, 12], type: 'INT8' } }))).toMatch(/one scale and one zero point/);
    expect(refusal(denseFile({ input: { ...act('input', [1, 12]), type: 'FLOAT32' } }))).toMatch(/not an int8 activation/);
    expect(refusal(denseFile({ output: { ...act('output', [1, 4]), quant: { scales: [0.1, 0.2], zeroPoints: [0, 0], quantizedDimension: 0 } } }))).toMatch(/one scale and one zero point/);
    expect(refusal(denseFile({ input: { ...act('input', [1, 12]), quant: { scales: [0.05], zeroPoints: [300], quantizedDimension: 0 } } }))).toMatch(/zero point 300/);
    expect(refusal(denseFile({ output: act('output', [1, 5]) }))).toMatch(/output \[1, 5\] for 4 channels/);
    expect(refusal(denseFile({ input: act('input', [1, 13]) }))).toMatch(/input of 13 values/);
    expect(refusal(denseFile({ swapOrder: true }))).toMatch(/not produced before it is read/);
  });
});
