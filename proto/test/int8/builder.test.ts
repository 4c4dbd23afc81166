import { describe, expect, it } from 'vitest';
import {
  Int8Interpreter, argMaxInt8, buildInt8Graph, calibrateRanges, dequantizeGraph, floatForward, floatModelFromTopology,
  mulberry32, quantizeActivation, type FloatModel,
} from '../../src/index.js';
import { loadDigits } from '../helpers/mnist-digits.js';
import { glorotWeightsFor } from '../helpers/seeded-weights.js';
import { MNIST_2NN, TINY_CNN } from '../mcu/fixtures.js';

const PER_DIGIT = 60; // 600 digits: 300 to calibrate, 300 to compare

const digits = loadDigits(PER_DIGIT);
const calibration = digits.filter((_, i) => i % 2 === 0);
const evaluation = digits.filter((_, i) => i % 2 === 1);

// Documented error bounds on the logits, in int8 steps of the output tensor (measured worst cases on these
// models and 300 digits in brackets):
// - against the float forward pass on the dequantized int8 parameters: the int8 path also rounds every hidden
//   activation to its int8 grid (half a step per value, summed through the next layer's weights) and saturates
//   values outside the calibrated range, so the logits differ by a few steps [2NN 4.03, CNN 1.68] → bound 6;
// - against the same float pass with each layer's output rounded to its int8 grid ("fake quant", the arithmetic
//   int8 represents): only TFLite's fixed-point rounding differs (double rounding in
//   MultiplyByQuantizedMultiplier, int32 bias), so at most one step [1.000] → bound 1 (+ float error).
const MAX_LOGIT_ERROR_STEPS = 6;
const MAX_FAKE_QUANT_ERROR_STEPS = 1 + 1e-4;

interface Comparison {
  maxLogitErrorSteps: number;
  maxFakeQuantErrorSteps: number;
  agreement: number;
  agreementWithFloat: number;
  /** Disagreements where the reference's top-two margin exceeds twice the error bound: must be 0. */
  decisiveDisagreements: number;
}

/**
 * Runs the integer-only graph and (a) the float forward pass on the dequantized int8 parameters, (b) the original
 * float model on the float inputs.
 */
function compare(model: FloatModel, calibrationSet = calibration, evaluationSet = evaluation): Comparison {
  const graph = buildInt8Graph(model, calibrateRanges(model, calibrationSet));
  const reference = dequantizeGraph(graph);
  const interpreter = new Int8Interpreter(graph);
  const inQ = graph.tensors[graph.input].quant;
  const outQ = graph.tensors[graph.output].quant;
  const size = evaluationSet[0].length;
  const codes = new Int8Array(size);
  const dequantizedInput = new Float32Array(size);
  let maxLogitErrorSteps = 0;
  let agree = 0;
  let agreeFloat = 0;
  let decisiveDisagreements = 0;
  let maxFakeQuantErrorSteps = 0;
  for (const x of evaluationSet) {
    // Float only here, outside the integer path: quantize the input once, feed both the same codes.
    quantizeActivation(x, inQ, codes);
    for (let i = 0; i < size; i++) dequantizedInput[i] = inQ.scale * (codes[i] - inQ.zeroPoint);
    const logits = interpreter.invoke(codes);
    const ref = floatForward(reference, dequantizedInput);
    const fake = floatForward(reference, dequantizedInput, (index, output) => {
      const q = graph.tensors[index + 1].quant;
      for (let i = 0; i < output.length; i++) {
        const code = Math.min(127, Math.max(-128, Math.round(output[i] / q.scale) + q.zeroPoint));
        output[i] = q.scale * (code - q.zeroPoint);
      }
    });
    for (let k = 0; k < fake.length; k++) {
      maxFakeQuantErrorSteps = Math.max(maxFakeQuantErrorSteps, Math.abs(outQ.scale * (logits[k] - outQ.zeroPoint) - fake[k]) / outQ.scale);
    }
    for (let k = 0; k < ref.length; k++) {
      const steps = Math.abs(outQ.scale * (logits[k] - outQ.zeroPoint) - ref[k]) / outQ.scale;
      maxLogitErrorSteps = Math.max(maxLogitErrorSteps, steps);
    }
    const cls = argMaxInt8(logits);
    const refCls = ref.indexOf(Math.max(...ref));
    const floatOut = floatForward(model, x);
    if (cls === refCls) agree += 1;
    else if (ref[refCls] - Math.max(...ref.filter((_, k) => k !== refCls)) > 2 * MAX_LOGIT_ERROR_STEPS * outQ.scale) {
      decisiveDisagreements += 1;
    }
    if (cls === floatOut.indexOf(Math.max(...floatOut))) agreeFloat += 1;
  }
  return { maxLogitErrorSteps, maxFakeQuantErrorSteps, decisiveDisagreements, agreement: agree / evaluationSet.length, agreementWithFloat: agreeFloat / evaluationSet.length };
}

describe('int8 graph from float weights, integer-only forward pass', () => {
  it('mnist-2nn: equals the dequantized float model within the bounds; class agrees on ≥ 99 %', () => {
    const result = compare(floatModelFromTopology(MNIST_2NN, glorotWeightsFor(MNIST_2NN, 1)));
    expect(result.maxLogitErrorSteps).toBeLessThanOrEqual(MAX_LOGIT_ERROR_STEPS);
    expect(result.maxFakeQuantErrorSteps).toBeLessThanOrEqual(MAX_FAKE_QUANT_ERROR_STEPS);
    expect(result.agreement).toBeGreaterThanOrEqual(0.99);
    expect(result.agreementWithFloat).toBeGreaterThanOrEqual(0.99);
    expect(result.decisiveDisagreements).toBe(0);
  });

  it('tiny-cnn: equals the dequantized float model within the bounds; class agrees on ≥ 99 %', () => {
    const model = floatModelFromTopology(TINY_CNN, glorotWeightsFor(TINY_CNN, 2));
    const graph = buildInt8Graph(model, calibrateRanges(model, calibration.slice(0, 4)));
    expect(graph.ops.map((op) => op.kind)).toEqual(['conv2d', 'maxPool2d', 'conv2d', 'maxPool2d', 'reshape', 'fullyConnected', 'fullyConnected']);
    expect(graph.tensors.map((t) => t.shape)).toEqual([[28, 28, 1], [26, 26, 8], [13, 13, 8], [11, 11, 16], [5, 5, 16], [400], [32], [10]]);
    const result = compare(model);
    expect(result.maxLogitErrorSteps).toBeLessThanOrEqual(MAX_LOGIT_ERROR_STEPS);
    expect(result.maxFakeQuantErrorSteps).toBeLessThanOrEqual(MAX_FAKE_QUANT_ERROR_STEPS);
    expect(result.agreement).toBeGreaterThanOrEqual(0.99);
    expect(result.agreementWithFloat).toBeGreaterThanOrEqual(0.99);
    expect(result.decisiveDisagreements).toBe(0);
  });

  it("'same' conv with stride 2, ReLU6, 'same' average pool: equals the dequantized float model within the bounds", () => {
    const rng = mulberry32(4);
    const random = (n: number, limit: number): Float32Array => Float32Array.from({ length: n }, () => (rng() * 2 - 1) * limit);
    const model: FloatModel = {
      inputShape: [12, 12, 2],
      layers: [
        {
          kind: 'conv2d', name: 'conv', kernel: random(3 * 3 * 2 * 4, 0.8), bias: random(4, 0.2), filters: 4, kernelH: 3,
          kernelW: 3, strideH: 2, strideW: 2, padding: 'same', activation: 'relu6',
        },
        { kind: 'averagePool2d', name: 'pool', poolH: 3, poolW: 3, strideH: 2, strideW: 2, padding: 'same' },
        { kind: 'flatten', name: 'flatten' },
        { kind: 'dense', name: 'logits', kernel: random(36 * 10, 0.5), bias: random(10, 0.1), units: 10, activation: 'none' },
      ],
    };
    const inputs = Array.from({ length: 300 }, () => Float32Array.from({ length: 288 }, () => rng() * 4)); // ReLU6 clips
    const graph = buildInt8Graph(model, calibrateRanges(model, inputs.slice(0, 100)));
    expect(graph.tensors.map((t) => t.shape)).toEqual([[12, 12, 2], [6, 6, 4], [3, 3, 4], [36], [10]]);
    const result = compare(model, inputs.slice(0, 100), inputs.slice(100));
    expect(result.maxLogitErrorSteps).toBeLessThanOrEqual(MAX_LOGIT_ERROR_STEPS);
    expect(result.maxFakeQuantErrorSteps).toBeLessThanOrEqual(MAX_FAKE_QUANT_ERROR_STEPS);
    // Random logits have many near-ties, so no agreement rate is asserted here; a class can only differ where
    // the top two logits are within twice the error bound.
    expect(result.decisiveDisagreements).toBe(0);
    expect(result.agreement).toBeGreaterThanOrEqual(0.95);
  });
});
