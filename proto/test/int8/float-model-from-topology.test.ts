import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { floatForward, floatModelFromTopology, parseLayerGraph, type FloatModel, type ModelWeights } from '../../src/index.js';
import { codeOf } from '../helpers/proto-error-code.js';
import { glorotWeightsFor } from '../helpers/seeded-weights.js';
import { MNIST_2NN, TINY_CNN } from '../mcu/fixtures.js';

/**
 * The hub's built-in architectures exactly as tfjs writes them (`JSON.stringify(model.toJSON(null, false))` of
 * hub/src/models/architectures.ts, seed 1, re-indented) — the untrimmed form the hub stores and devices receive.
 */
const real = (arch: string): string => readFileSync(new URL(`./fixtures/${arch}.topology.json`, import.meta.url), 'utf8');

function tensor(weights: ModelWeights, name: string): Float32Array {
  return weights.find((w) => w.name === name)!.data;
}

/** The FloatModels the 2NN and tiny CNN were built by hand as before (TF.js weight names, trailing softmax left out). */
function mnist2nn(w: ModelWeights): FloatModel {
  const dense = (name: string, units: number, activation: 'relu' | 'none') =>
    ({ kind: 'dense' as const, name, kernel: tensor(w, `${name}/kernel`), bias: tensor(w, `${name}/bias`), units, activation });
  return { inputShape: [784], layers: [dense('dense1', 200, 'relu'), dense('dense2', 200, 'relu'), dense('output', 10, 'none')] };
}

function tinyCnn(w: ModelWeights): FloatModel {
  const conv = (name: string, filters: number) => ({
    kind: 'conv2d' as const, name, kernel: tensor(w, `${name}/kernel`), bias: tensor(w, `${name}/bias`), filters,
    kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padding: 'valid' as const, activation: 'relu' as const,
  });
  const pool = (name: string) => ({ kind: 'maxPool2d' as const, name, poolH: 2, poolW: 2, strideH: 2, strideW: 2, padding: 'valid' as const });
  const dense = (name: string, units: number, activation: 'relu' | 'none') =>
    ({ kind: 'dense' as const, name, kernel: tensor(w, `${name}/kernel`), bias: tensor(w, `${name}/bias`), units, activation });
  return {
    inputShape: [28, 28, 1],
    layers: [conv('conv1', 8), pool('pool1'), conv('conv2', 16), pool('pool2'), { kind: 'flatten', name: 'flatten' }, dense('dense1', 32, 'relu'), dense('output', 10, 'none')],
  };
}

const sequential = (...layers: object[]): object => ({ class_name: 'Sequential', config: { layers } });
const input = (shape: number[]) => ({ batch_input_shape: [null, ...shape] });
/** Weights for the layers the shared parser reads; none when the parser itself refuses the topology. */
function weightsIfParsable(topology: object): ModelWeights {
  try {
    return glorotWeightsFor(topology, 1);
  } catch {
    return [];
  }
}
const denseLayer = (name: string, units: number, extra: object = {}) => ({ class_name: 'Dense', config: { name, units, ...extra } });

describe('floatModelFromTopology', () => {
  const cases: Array<[string, object | string, (w: ModelWeights) => FloatModel]> = [
    ['mnist-2nn as tfjs writes it', real('mnist-2nn'), mnist2nn],
    ['mnist-2nn (trimmed fixture)', MNIST_2NN, mnist2nn],
    ['tiny-cnn as tfjs writes it', real('tiny-cnn'), tinyCnn],
    ['tiny-cnn (trimmed fixture)', TINY_CNN, tinyCnn],
  ];
  for (const [label, topology, expected] of cases) {
    it(`${label}: the same FloatModel as the hand-built one`, () => {
      const weights = glorotWeightsFor(topology, 9);
      expect(floatModelFromTopology(topology, weights)).toEqual(expected(weights));
    });
  }

  it('fuses a ReLU / ReLU6 layer into the Dense or Conv2D before it and drops a trailing softmax layer', () => {
    const topology = sequential(
      { class_name: 'Conv2D', config: { name: 'c', filters: 2, kernel_size: 3, strides: 2, padding: 'same', ...input([6, 6, 1]) } },
      { class_name: 'ReLU', config: { name: 'r6', max_value: 6 } },
      { class_name: 'AveragePooling2D', config: { name: 'p', pool_size: 3, strides: 1, padding: 'same' } },
      { class_name: 'Flatten', config: { name: 'f' } },
      { class_name: 'Dropout', config: { name: 'drop', rate: 0.5 } },
      denseLayer('d', 4),
      { class_name: 'Activation', config: { name: 'a', activation: 'relu' } },
      denseLayer('logits', 3, { use_bias: false }),
      { class_name: 'Softmax', config: { name: 'sm' } },
    );
    const model = floatModelFromTopology(JSON.stringify(topology), glorotWeightsFor(topology, 1).filter((w) => w.name !== 'logits/bias'));
    expect(model.layers.map((l) => [l.kind, l.name, 'activation' in l ? l.activation : '-'])).toEqual([
      ['conv2d', 'c', 'relu6'], ['averagePool2d', 'p', '-'], ['flatten', 'f', '-'], ['dense', 'd', 'relu'], ['dense', 'logits', 'none'],
    ]);
    expect(model.layers[0]).toMatchObject({ strideH: 2, strideW: 2, padding: 'same', kernelH: 3, kernelW: 3, filters: 2 });
    expect(model.layers[1]).toMatchObject({ poolH: 3, poolW: 3, strideH: 1, padding: 'same' });
    expect(model.layers[4]).toMatchObject({ bias: new Float32Array(3) }); // use_bias: false
    expect(floatForward(model, new Float32Array(36).fill(1))).toHaveLength(3);
    // The MCU resource model reads the same layers: ReLU6 and ReLU as layers stay their own ops there.
    expect(parseLayerGraph(topology).ops.map((op) => op.kind)).toEqual(['CONV_2D', 'RELU6', 'AVERAGE_POOL_2D', 'RESHAPE', 'FULLY_CONNECTED', 'RELU', 'FULLY_CONNECTED', 'SOFTMAX']);
  });

  it('composes ReLU and ReLU6 in either order into ReLU6', () => {
    const relu6AfterRelu = sequential(denseLayer('d', 2, { activation: 'relu', ...input([3]) }), { class_name: 'ReLU', config: { name: 'clip', max_value: 6 } });
    const reluAfterRelu6 = sequential(denseLayer('d', 2, { activation: 'relu6', ...input([3]) }), { class_name: 'ReLU', config: { name: 'again' } });
    for (const topology of [relu6AfterRelu, reluAfterRelu6]) {
      expect(floatModelFromTopology(topology, glorotWeightsFor(topology, 1)).layers).toMatchObject([{ name: 'd', activation: 'relu6' }]);
    }
  });

  const refused: Array<[string, object, string]> = [
    ['an unknown layer type', sequential({ class_name: 'LSTM', config: { name: 'rnn', units: 8, ...input([4, 4]) } }), 'rnn'],
    ['an unknown activation', sequential(denseLayer('d', 2, { activation: 'tanh', ...input([3]) })), 'd'],
    ['a softmax before the last layer', sequential(denseLayer('d', 2, { activation: 'softmax', ...input([3]) }), denseLayer('e', 2)), 'd'],
    ['a ReLU after pooling', sequential({ class_name: 'MaxPooling2D', config: { name: 'p', ...input([4, 4, 1]) } }, { class_name: 'ReLU', config: { name: 'after_pool' } }), 'after_pool'],
    ['a clipped ReLU that is not ReLU6', sequential(denseLayer('d', 2, input([3])), { class_name: 'ReLU', config: { name: 'relu3', max_value: 3 } }), 'relu3'],
    ['a leaky ReLU', sequential(denseLayer('d', 2, input([3])), { class_name: 'ReLU', config: { name: 'leaky', negative_slope: 0.1 } }), 'leaky'],
    ['a Dense on a [h, w, c] input', sequential(denseLayer('d', 2, input([4, 4, 1]))), 'd'],
    ['a dilated Conv2D', sequential({ class_name: 'Conv2D', config: { name: 'dil', filters: 1, kernel_size: 2, dilation_rate: 2, ...input([5, 5, 1]) } }), 'dil'],
    ['a Reshape to more than one axis', sequential({ class_name: 'Reshape', config: { name: 'to_image', target_shape: [4, 4, 1], ...input([16]) } }), 'to_image'],
  ];
  for (const [label, topology, layer] of refused) {
    it(`refuses ${label} with PROTO_ERR_UNSUPPORTED_LAYER naming the layer`, () => {
      const build = () => floatModelFromTopology(topology, weightsIfParsable(topology));
      expect(codeOf(build)).toBe('PROTO_ERR_UNSUPPORTED_LAYER');
      expect(build).toThrow(`: ${layer}: `);
    });
  }

  it('refuses missing or mis-shaped weights with PROTO_ERR_BAD_TENSOR', () => {
    const weights = glorotWeightsFor(MNIST_2NN, 1);
    const missing = () => floatModelFromTopology(MNIST_2NN, weights.filter((w) => w.name !== 'dense2/bias'));
    expect(codeOf(missing)).toBe('PROTO_ERR_BAD_TENSOR');
    expect(missing).toThrow('missing weight dense2/bias');
    const transposed = () => floatModelFromTopology(MNIST_2NN, weights.map((w) => (w.name === 'output/kernel' ? { ...w, shape: [10, 200] } : w)));
    expect(codeOf(transposed)).toBe('PROTO_ERR_BAD_TENSOR');
    expect(transposed).toThrow('output/kernel has shape [10, 200]');
  });
});
