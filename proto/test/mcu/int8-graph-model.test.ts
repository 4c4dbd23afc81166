/**
 * The resource model judges a decoded int8 model (an Int8Graph) exactly as it judges the topology it was built from:
 * same operators, shapes, weights, biases, channels and multiply-accumulates, so a device's fit check of a .tflite
 * agrees with the hub's `mcuFit` table (the trailing softmax aside, which the int8 graph leaves to arg-max).
 */
import { describe, expect, it } from 'vitest';
import {
  ProtoError, buildInt8Graph, estimateMcuFit, floatModelFromTopology, mcuGraphOfInt8, parseLayerGraph, MCU_PROFILES,
  type FloatModel, type Int8Graph,
} from '../../src/index.js';
import { glorotWeightsFor } from '../helpers/seeded-weights.js';
import { MNIST_2NN, TINY_CNN } from './fixtures.js';

function int8Graph(model: FloatModel): Int8Graph {
  return buildInt8Graph(model, { input: [0, 1], layers: model.layers.map(() => [-4, 4]) });
}

const twoNn = floatModelFromTopology(MNIST_2NN, glorotWeightsFor(MNIST_2NN, 5));
const tinyCnn = floatModelFromTopology(TINY_CNN, glorotWeightsFor(TINY_CNN, 5));

describe('MCU graph of an int8 model', () => {
  it.each([['mnist-2nn', twoNn, MNIST_2NN], ['tiny-cnn', tinyCnn, TINY_CNN]] as const)('%s: the same ops as its topology, less the softmax', (_, model, topology) => {
    const fromTopology = parseLayerGraph(topology);
    expect(fromTopology.ops.at(-1)?.kind).toBe('SOFTMAX');
    const fromInt8 = mcuGraphOfInt8(int8Graph(model));
    expect(fromInt8).toEqual({ inputShape: fromTopology.inputShape, ops: fromTopology.ops.slice(0, -1) });
  });

  it('gives the fit numbers of the topology: flash and MACs equal, less one graph op', () => {
    const profile = MCU_PROFILES['mcu-m4'];
    const fromInt8 = estimateMcuFit(mcuGraphOfInt8(int8Graph(tinyCnn)), profile);
    const fromTopology = estimateMcuFit(TINY_CNN, profile);
    expect(fromInt8.macs).toBe(fromTopology.macs);
    expect(fromInt8.flash.weightBytes).toBe(fromTopology.flash.weightBytes);
    expect(fromInt8.flash.biasBytes).toBe(fromTopology.flash.biasBytes);
    expect(fromInt8.estLatencyMs).toBeCloseTo(fromTopology.estLatencyMs, 9);
  });

  it('refuses an op kind it does not know with PROTO_ERR_UNSUPPORTED_LAYER', () => {
    const graph = int8Graph(twoNn);
    const odd = { ...graph, ops: [{ ...graph.ops[0], kind: 'lstm' }] } as unknown as Int8Graph;
    expect(() => mcuGraphOfInt8(odd)).toThrow(ProtoError);
    expect(() => mcuGraphOfInt8(odd)).toThrow(/"lstm" is not in the MCU resource model/);
  });
});
