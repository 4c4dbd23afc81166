import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
// Test-only reach into the hub: the built-in architectures are defined there, and this proves they train here.
import { createInitialModel } from '../../../hub/src/models/architectures.js';
import { initBackend, mnistGlobal, subsetDataset, trainLocal } from '../../src/ml/index.js';
import { l2Distance } from './fixtures.js';

describe('tiny-cnn on wasm (needs the project’s Conv2DBackpropFilter kernel)', () => {
  it('trains a few batches, matching the cpu backend', async () => {
    const { topologyJson, weights } = createInitialModel('tiny-cnn', 11);
    const global = mnistGlobal();
    const data = {
      train: subsetDataset(global.train, Array.from({ length: 40 }, (_, i) => i)),
      test: subsetDataset(global.test, Array.from({ length: 20 }, (_, i) => i)),
    };
    const run = async (backend: 'wasm' | 'cpu') => {
      await initBackend(backend);
      return trainLocal({ topologyJson, weights, data, epochs: 1, batchSize: 10, learningRate: 0.05, seed: 3 });
    };
    const tensors = tf.memory().numTensors;
    const wasm = await run('wasm');
    expect(tf.memory().numTensors).toBe(tensors);
    const cpu = await run('cpu');
    await initBackend('wasm');
    expect(wasm.exampleCount).toBe(40);
    const moved = l2Distance(wasm.weights, weights);
    expect(moved).toBeGreaterThan(0);
    // Same SGD path on both backends, up to float rounding.
    expect(l2Distance(wasm.weights, cpu.weights)).toBeLessThan(1e-3 * moved);
    expect(wasm.metrics.trainLoss).toBeCloseTo(cpu.metrics.trainLoss, 3);
  });
});
