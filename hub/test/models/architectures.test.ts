import * as tf from '@tensorflow/tfjs';
import { paramCount } from '@fedfleet/proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ARCHITECTURES, createInitialModel, getArchitecture } from '../../src/models/architectures.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('built-in architectures', () => {
  it('mnist-2nn is the FedAvg 2NN: 784-200-200-10, 199,210 parameters', () => {
    const { weights } = createInitialModel('mnist-2nn', 1);
    expect(paramCount(weights)).toBe(199_210);
    expect(weights.map((w) => [w.name, w.shape])).toEqual([
      ['dense1/kernel', [784, 200]],
      ['dense1/bias', [200]],
      ['dense2/kernel', [200, 200]],
      ['dense2/bias', [200]],
      ['output/kernel', [200, 10]],
      ['output/bias', [10]],
    ]);
  });

  it('tiny-cnn takes 28×28×1 and stays under 50k parameters', () => {
    const { weights } = createInitialModel('tiny-cnn', 1);
    expect(paramCount(weights)).toBe(14_410);
    expect(weights[0]).toMatchObject({ name: 'conv1/kernel', shape: [3, 3, 1, 8] });
  });

  it.each(Object.keys(ARCHITECTURES))('%s: same seed ⇒ identical weights and topology; another seed differs', (id) => {
    const a = createInitialModel(id, 42);
    const b = createInitialModel(id, 42);
    const c = createInitialModel(id, 43);
    expect(b.topologyJson).toBe(a.topologyJson);
    expect(b.weights).toEqual(a.weights);
    expect(c.weights[0]!.data).not.toEqual(a.weights[0]!.data);
    // Biases start at zero, kernels do not.
    expect(a.weights[1]!.data.every((v) => v === 0)).toBe(true);
    expect(a.weights[0]!.data.some((v) => v !== 0)).toBe(true);
  });

  it.each(Object.keys(ARCHITECTURES))('%s: the topology rebuilds into the same model', async (id) => {
    const arch = getArchitecture(id);
    const { topologyJson, weights } = createInitialModel(id, 7);
    const model = await tf.models.modelFromJSON(JSON.parse(topologyJson));
    expect(model.inputs[0]!.shape).toEqual([null, ...arch.inputShape]);
    expect(model.outputs[0]!.shape).toEqual([null, arch.numClasses]);
    expect(model.countParams()).toBe(paramCount(weights));
    expect(model.weights.map((w) => w.originalName)).toEqual(weights.map((w) => w.name));
    model.dispose();
  });

  it('creating models leaks no tensors', () => {
    createInitialModel('tiny-cnn', 1);
    const before = tf.memory().numTensors;
    createInitialModel('tiny-cnn', 2);
    createInitialModel('mnist-2nn', 2);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects an unknown architecture with a hub error code', () => {
    expect(() => createInitialModel('resnet-152', 1)).toThrow(expect.objectContaining({ code: 'HUB_ERR_UNKNOWN_ARCHITECTURE' }));
    expect(() => getArchitecture('toString')).toThrow(expect.objectContaining({ code: 'HUB_ERR_UNKNOWN_ARCHITECTURE' }));
  });
});
