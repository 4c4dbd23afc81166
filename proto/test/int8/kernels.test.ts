import { describe, expect, it } from 'vitest';
import {
  Int8Interpreter, ProtoError, argMaxInt8, conv2dInt8, fullyConnectedInt8, pool2dInt8, quantizeMultiplier, type Conv2dOp,
  type FullyConnectedOp, type Int8Graph, type Padding, type Pool2dOp,
} from '../../src/index.js';

function requant(reals: number[]): { multipliers: Int32Array; shifts: Int32Array } {
  const ms = reals.map((r) => quantizeMultiplier(r));
  return { multipliers: Int32Array.from(ms, (m) => m.multiplier), shifts: Int32Array.from(ms, (m) => m.shift) };
}

describe('fully connected (reference_integer_ops/fully_connected.h)', () => {
  it('accumulates (x − inputZeroPoint) × w + bias in int32, requantizes per channel, clamps', () => {
    const op: FullyConnectedOp = {
      kind: 'fullyConnected', input: 0, output: 1,
      weights: Int8Array.from([1, 2, 3, -1, 0, 1]), weightShape: [2, 3], weightScales: new Float32Array([1, 1]),
      bias: Int32Array.from([4, -3]), ...requant([0.25, 0.5]), activation: 'none', activationMin: -128, activationMax: 127,
    };
    const out = new Int8Array(2);
    // x − (−2) = [12, −18, 32]; acc = [72 + 4, 20 − 3] = [76, 17]; × [0.25, 0.5] = [19, 8.5 → 9]; + zp 5.
    fullyConnectedInt8(op, Int8Array.from([10, -20, 30]), -2, out, 5);
    expect([...out]).toEqual([24, 14]);
    fullyConnectedInt8({ ...op, activation: 'relu', activationMin: 20 }, Int8Array.from([10, -20, 30]), -2, out, 5);
    expect([...out]).toEqual([24, 20]);
    // Saturates at the int8 range instead of wrapping.
    fullyConnectedInt8({ ...op, ...requant([4, 4]) }, Int8Array.from([10, -20, 30]), -2, out, 5);
    expect([...out]).toEqual([127, 73]);
  });
});

describe('conv2d NHWC (reference_integer_ops/conv.h ConvPerChannel)', () => {
  const image = Int8Array.from({ length: 16 }, (_, i) => i + 1); // 4×4×1, values 1…16
  function convOp(padding: Padding, stride: number): Conv2dOp {
    return {
      kind: 'conv2d', input: 0, output: 1, weights: new Int8Array(9).fill(1), weightShape: [1, 3, 3, 1],
      weightScales: new Float32Array([1]), bias: new Int32Array(1), ...requant([1]), activation: 'none',
      activationMin: -128, activationMax: 127, strideH: stride, strideW: stride, padding,
    };
  }

  it("'valid', stride 1: sums of each 3×3 window", () => {
    const out = new Int8Array(4);
    conv2dInt8(convOp('valid', 1), image, [4, 4, 1], 0, out, [2, 2, 1], 0);
    expect([...out]).toEqual([54, 63, 90, 99]);
  });

  it("'same', stride 2: padding 0 before, 1 after (TFLite / TensorFlow), taps outside the image skipped", () => {
    const out = new Int8Array(4);
    conv2dInt8(convOp('same', 2), image, [4, 4, 1], 0, out, [2, 2, 1], 0);
    expect([...out]).toEqual([54, 45, 72, 54]);
    // With a non-zero input zero point the padding still stands for real 0 (the tap is skipped, not read as code 0).
    const shifted = Int8Array.from(image, (v) => v + 3);
    conv2dInt8(convOp('same', 2), shifted, [4, 4, 1], 3, out, [2, 2, 1], 0);
    expect([...out]).toEqual([54, 45, 72, 54]);
  });

  it("'same' with leading padding (stride 1 on 4×4, stride 2 on 5×5): the window sums of the zero-padded image", () => {
    // Independent expectation: sum over the window of a real image padded with zeros, pad = ⌊total / 2⌋ before.
    function windowSums(size: number, stride: number, out: number, padBefore: number): number[] {
      const sums: number[] = [];
      for (let oy = 0; oy < out; oy++) {
        for (let ox = 0; ox < out; ox++) {
          let sum = 0;
          for (let y = oy * stride - padBefore; y < oy * stride - padBefore + 3; y++) {
            for (let x = ox * stride - padBefore; x < ox * stride - padBefore + 3; x++) {
              if (y >= 0 && y < size && x >= 0 && x < size) sum += (y * size + x) % 7 - 3;
            }
          }
          sums.push(sum);
        }
      }
      return sums;
    }
    for (const [size, stride, out] of [[4, 1, 4], [5, 2, 3]]) {
      const input = Int8Array.from({ length: size * size }, (_, i) => (i % 7) - 3 + 10); // real (i % 7) − 3, zero point 10
      const result = new Int8Array(out * out);
      conv2dInt8(convOp('same', stride), input, [size, size, 1], 10, result, [out, out, 1], 0);
      expect([...result]).toEqual(windowSums(size, stride, out, 1));
    }
  });

  it('requantizes each output channel with its own multiplier and adds the per-channel bias', () => {
    // 1×1×2 input, 1×1 kernel, 2 output channels: w = [[1, 1], [2, −1]] (OHWI).
    const op: Conv2dOp = {
      ...convOp('valid', 1), weights: Int8Array.from([1, 1, 2, -1]), weightShape: [2, 1, 1, 2],
      weightScales: new Float32Array([1, 1]), bias: Int32Array.from([10, -10]), ...requant([0.5, 2]),
    };
    const out = new Int8Array(2);
    conv2dInt8(op, Int8Array.from([7, 3]), [1, 1, 2], 1, out, [1, 1, 2], -1);
    // (x − 1) = [6, 2]; acc = [8 + 10, 10 − 10] = [18, 0]; × [0.5, 2] = [9, 0]; + zp −1.
    expect([...out]).toEqual([8, -1]);
  });
});

describe('pooling (reference_integer_ops/pooling.h)', () => {
  function poolOp(kind: Pool2dOp['kind'], filterW: number, strideW: number, padding: Padding): Pool2dOp {
    return { kind, input: 0, output: 1, filterH: 1, filterW, strideH: 1, strideW, padding, activationMin: -128, activationMax: 127 };
  }

  it('average pool rounds half away from zero as TFLM does: (acc ± count/2) / count, truncated', () => {
    const out = new Int8Array(3);
    pool2dInt8(poolOp('averagePool2d', 2, 2, 'valid'), Int8Array.from([1, 2, -1, -2, 3, 4]), [1, 6, 1], out, [1, 3, 1]);
    expect([...out]).toEqual([2, -2, 4]); // 1.5 → 2, −1.5 → −2, 3.5 → 4
    const out2 = new Int8Array(2);
    pool2dInt8(poolOp('averagePool2d', 3, 3, 'valid'), Int8Array.from([1, 2, 2, -1, -1, 0]), [1, 6, 1], out2, [1, 2, 1]);
    expect([...out2]).toEqual([2, -1]); // 5/3 → 2, −2/3 → −1
  });

  it("average pool with 'same' padding divides by the taps inside the image only", () => {
    const out = new Int8Array(2);
    pool2dInt8(poolOp('averagePool2d', 2, 2, 'same'), Int8Array.from([1, 2, 4]), [1, 3, 1], out, [1, 2, 1]);
    expect([...out]).toEqual([2, 4]);
  });

  it('max pool takes the largest code per channel', () => {
    const out = new Int8Array(2);
    // 2×2×2 input, 2×2 window: channel 0 = [−3, −7, −1, −128], channel 1 = [5, 9, 0, 1].
    const op: Pool2dOp = { ...poolOp('maxPool2d', 2, 2, 'valid'), filterH: 2, strideH: 2 };
    pool2dInt8(op, Int8Array.from([-3, 5, -7, 9, -1, 0, -128, 1]), [2, 2, 2], out, [1, 1, 2]);
    expect([...out]).toEqual([-1, 9]);
  });
});

describe('arg-max on int8 logits', () => {
  it('returns the first of equal maxima', () => {
    expect(argMaxInt8(Int8Array.from([3, 7, 7, -1]))).toBe(1);
    expect(argMaxInt8(Int8Array.from([-128, -128]))).toBe(0);
    expect(argMaxInt8(Int8Array.from([0, 1, 2, 9, 5]), 2, 3)).toBe(1);
  });
});

describe('Int8Interpreter', () => {
  it('runs the ops in order over preallocated buffers and refuses an input of the wrong size', () => {
    const graph: Int8Graph = {
      tensors: [
        { name: 'input', shape: [1, 3], quant: { scale: 1, zeroPoint: -2 } },
        { name: 'flat', shape: [3], quant: { scale: 1, zeroPoint: -2 } },
        { name: 'logits', shape: [2], quant: { scale: 1, zeroPoint: 5 } },
      ],
      ops: [
        { kind: 'reshape', input: 0, output: 1 },
        {
          kind: 'fullyConnected', input: 1, output: 2, weights: Int8Array.from([1, 2, 3, -1, 0, 1]), weightShape: [2, 3],
          weightScales: new Float32Array([1, 1]), bias: Int32Array.from([4, -3]), ...requant([0.25, 0.5]),
          activation: 'none', activationMin: -128, activationMax: 127,
        },
      ],
      input: 0,
      output: 2,
    };
    const interpreter = new Int8Interpreter(graph);
    const out = interpreter.invoke(Int8Array.from([10, -20, 30]));
    expect([...out]).toEqual([24, 14]); // as the fully connected vector above
    expect(interpreter.invoke(Int8Array.from([10, -20, 30]))).toBe(out); // same buffer, nothing allocated per call
    expect(() => interpreter.invoke(new Int8Array(4))).toThrow(ProtoError);
  });
});
