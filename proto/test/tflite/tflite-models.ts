// Models and int8 graphs the .tflite tests encode: the two built-in architectures from seeded random weights,
// calibrated on MNIST digits, and a tiny conv model whose file is small enough to corrupt at every byte.
import {
  buildInt8Graph, calibrateRanges, floatModelFromTopology, mulberry32, type FloatModel, type Int8Graph,
} from '../../src/index.js';
import { loadDigits } from '../helpers/mnist-digits.js';
import { glorotWeightsFor } from '../helpers/seeded-weights.js';
import { MNIST_2NN, TINY_CNN } from '../mcu/fixtures.js';

export const digits = loadDigits(10);

export interface TestModel {
  model: FloatModel;
  graph: Int8Graph;
}

function withGraph(model: FloatModel, calibration: Float32Array[]): TestModel {
  return { model, graph: buildInt8Graph(model, calibrateRanges(model, calibration)) };
}

export function mnist2nn(): TestModel {
  return withGraph(floatModelFromTopology(MNIST_2NN, glorotWeightsFor(MNIST_2NN, 11)), digits.slice(0, 50));
}

export function tinyCnn(): TestModel {
  return withGraph(floatModelFromTopology(TINY_CNN, glorotWeightsFor(TINY_CNN, 12)), digits.slice(0, 50));
}

/** 'same' conv (stride 2, ReLU6), average pool, flatten, dense: every option the encoder writes, in ~1.3 KB. */
export function smallModel(): TestModel {
  const rng = mulberry32(13);
  const random = (n: number, limit: number): Float32Array => Float32Array.from({ length: n }, () => (rng() * 2 - 1) * limit);
  const model: FloatModel = {
    inputShape: [6, 6, 1],
    layers: [
      {
        kind: 'conv2d', name: 'conv', kernel: random(3 * 3 * 1 * 3, 0.8), bias: random(3, 0.2), filters: 3, kernelH: 3, kernelW: 3,
        strideH: 2, strideW: 2, padding: 'same', activation: 'relu6',
      },
      { kind: 'averagePool2d', name: 'pool', poolH: 2, poolW: 2, strideH: 1, strideW: 1, padding: 'valid' },
      { kind: 'flatten', name: 'flatten' },
      { kind: 'dense', name: 'logits', kernel: random(12 * 4, 0.5), bias: random(4, 0.1), units: 4, activation: 'none' },
    ],
  };
  return withGraph(model, Array.from({ length: 20 }, () => Float32Array.from({ length: 36 }, () => rng() * 4)));
}

/** `count` int8 input vectors for `graph`, seeded. */
export function randomCodes(graph: Int8Graph, count: number, seed: number): Int8Array[] {
  const rng = mulberry32(seed);
  const size = graph.tensors[graph.input].shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: count }, () => Int8Array.from({ length: size }, () => Math.floor(rng() * 256) - 128));
}
